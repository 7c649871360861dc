import ArgumentParser
import StylizeNN
import StylizeModels

/// `stylize layers`: the names accepted by --content-layers and --style-layers.
struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "List VGG-19's layers, usable in --content-layers and --style-layers."
    )

    func run() {
        print("layer     channels  resolution")
        var scale = 1
        var previousBlock = "1"
        for (name, channels) in zip(VGG19.layerNames, VGG19.channels) {
            let block = String(name.dropFirst(4).prefix(1))
            if block != previousBlock { scale *= 2; previousBlock = block }
            let pad = String(repeating: " ", count: 10 - name.count)
            print("\(name)\(pad)\(String(channels).leftPadded(8))  1/\(scale)")
        }
        print("""

        Defaults: content relu4_2; style relu1_1,relu2_1,relu3_1,relu4_1,relu5_1.
        Deeper layers see larger structures; the run stops at the deepest layer requested.
        Give per-layer weights as name:weight, e.g. --style-layers relu1_1:0.5,relu2_1,relu3_1:2
        """)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
