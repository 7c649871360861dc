import ArgumentParser
import Dispatch
import Foundation
import Stylize
import StylizeIO
import Synchronization

/// What a long run needs around it on the command line: a progress line on a terminal,
/// intermediate saves, and Ctrl-C that stops after the current iteration.
struct RunSession {
    let shared: SharedOptions
    let progress: ProgressLine?

    init(shared: SharedOptions) {
        self.shared = shared
        progress = (!shared.quiet && isatty(STDERR_FILENO) != 0) ? ProgressLine(mayStopEarly: shared.tolerance > 0) : nil
    }

    typealias Body = (
        _ progress: @escaping (StyleTransfer.Progress) -> Void,
        _ snapshot: @escaping (Int, Image) -> Void,
        _ cancel: @escaping () -> Bool
    ) throws -> Image

    func run(_ body: Body) throws -> Image {
        let interrupt = InterruptFlag()
        var saveError: Error?
        var lastSaved: String?
        do {
            return try body(
                { self.progress?.update($0) },
                { iteration, image in
                    guard saveError == nil else { return }
                    let path = shared.snapshotPath(iteration)
                    do {
                        try ImageIO.save(image, to: path, jpegQuality: shared.quality)
                        lastSaved = path
                    } catch { saveError = error }
                },
                { interrupt.isSet || saveError != nil }
            )
        } catch StylizeError.cancelled(let iteration, _) {
            progress?.end()
            if let saveError { throw saveError }
            let saved = lastSaved.map { "; last saved picture: \($0)" } ?? ""
            let signal = interrupt.signal ?? SIGINT
            FileHandle.standardError.write("stylize: \(InterruptFlag.verb(signal)) after iteration \(iteration)\(saved)\n".data(using: .utf8)!)
            throw ExitCode(128 + signal)
        }
    }

    func finished(_ image: Image) {
        progress?.end()
        if !shared.quiet && isatty(STDERR_FILENO) != 0 {
            FileHandle.standardError.write("wrote \(shared.output) (\(image.width)×\(image.height))\n".data(using: .utf8)!)
        }
    }
}

/// One line on stderr, rewritten in place: scale (when there are several), iteration, loss
/// terms, rate and time left. With an early stop the time left is that of running every planned
/// iteration from here, an upper bound, and says so ("ETA ≤").
final class ProgressLine {
    private let mayStopEarly: Bool
    private var lastDraw = -1.0
    /// When the current scale started, and which it is: the rate is the current scale's.
    private var scaleStart = 0.0, scale = 1, lastElapsed = 0.0

    init(mayStopEarly: Bool) { self.mayStopEarly = mayStopEarly }

    func update(_ p: StyleTransfer.Progress) {
        if p.scale != scale { scale = p.scale; scaleStart = lastElapsed }
        lastElapsed = p.elapsedSeconds
        // Redraw at most 10 times a second, and always on a scale's last iteration.
        guard p.elapsedSeconds - lastDraw >= 0.1 || p.iteration == p.iterations || p.stoppedEarly else { return }
        lastDraw = p.elapsedSeconds
        let rate = Double(p.iteration) / max(p.elapsedSeconds - scaleStart, 1e-9)
        // Across scales the work per iteration grows with the pixels: estimate from the work done.
        let eta = p.elapsedSeconds * (1 - p.fractionDone) / max(p.fractionDone, 1e-9)
        let l = p.losses
        let scalePart = p.scales > 1 ? "scale \(p.scale)/\(p.scales) (\(p.size) px)  " : ""
        let timeLeft = p.stoppedEarly ? "stopped early" : "ETA \(mayStopEarly ? "≤ " : "")\(Self.duration(eta))"
        let line = String(format: "%@iter %d/%d  content %.3g  style %.3g  tv %.3g  total %.4g  %.2f it/s  %@",
                          scalePart, p.iteration, p.iterations, l.content, l.style, l.tv, l.total, rate, timeLeft)
        FileHandle.standardError.write("\r\u{1B}[K\(line)".data(using: .utf8)!)
    }

    func end() { FileHandle.standardError.write("\n".data(using: .utf8)!) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
