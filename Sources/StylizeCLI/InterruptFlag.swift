import Dispatch
import Glibc
import Foundation
import Synchronization

/// Set by SIGINT (Ctrl-C), SIGTERM or SIGHUP; long runs check it between iterations (or
/// pictures) and stop there, so a signal never leaves a half-written file: the signals are
/// ignored by the process and seen only through dispatch sources.
final class InterruptFlag: @unchecked Sendable {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// The first signal received, 0 while none.
    private let received = Atomic<Int32>(0)
    // Written once in init; only resumed there.
    private let sources: [DispatchSourceSignal]

    init() {
        var sources: [DispatchSourceSignal] = []
        for number in Self.signals {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (number, source) in zip(Self.signals, sources) {
            source.setEventHandler { [weak self] in
                _ = self?.received.compareExchange(expected: 0, desired: number, ordering: .relaxed)
            }
            source.resume()
        }
    }

    var isSet: Bool { received.load(ordering: .relaxed) != 0 }

    /// The first signal received, if any.
    var signal: Int32? {
        let s = received.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// "interrupted" for Ctrl-C, "terminated (SIGTERM)" and so on for the others.
    static func verb(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "terminated (SIGTERM)"
        case SIGHUP: "hung up (SIGHUP)"
        default: "interrupted"
        }
    }
}
