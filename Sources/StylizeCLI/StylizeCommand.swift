import ArgumentParser
import Foundation
import StylizeTensor

/// `stylize`: neural style transfer from the command line.
@main
struct StylizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stylize",
        abstract: "Neural style transfer (Gatys et al.) on VGG-19.",
        discussion: """
        Renders a photo in the style of one or more paintings by optimising its pixels so that \
        VGG-19 sees the photo's content and the paintings' textures (Gatys, Ecker & Bethge 2015).

        Examples:
          stylize photo.jpg --style starry_night.jpg -o out.png
          stylize photo.jpg --style a.jpg --style b.jpg --style-blend-weights 0.7,0.3 -o out.jpg
          stylize fast photo.jpg --style 19 -o out.png       (feed-forward networks, instant)
          stylize train --style painting.jpg --data photos/ -o mine.onnx --minutes 45
          stylize texture brick.png --width 512 --height 512 -o brick_texture.png
          stylize dream photo.jpg -o dream.jpg                (DeepDream on VGG-19)
          stylize visualize --layer relu4_1 --channel 42 -o unit.png
          stylize layers
          stylize info                                       (CPU, instruction sets, kernels in use)
        """,
        subcommands: [TransferCommand.self, FastCommand.self, TrainCommand.self, TextureCommand.self, DreamCommand.self, VisualizeCommand.self, LayersCommand.self, MeasureCommand.self, InfoCommand.self],
        defaultSubcommand: TransferCommand.self
    )

    /// Runs the command; every failure becomes one line on stderr and a non-zero exit
    /// (usage errors 64, failures 1, Ctrl-C 130), never a trap or a stack trace.
    static func main() {
        AllocatorPolicy.reuseFreedMemory()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit { exit(withError: error) }  // --help, --version
            if !(error is ExitCode) {
                let message = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
                FileHandle.standardError.write("stylize: error: \(message)\n".data(using: .utf8)!)
            }
            Foundation.exit(code.rawValue)
        }
    }
}
