import Testing
import Foundation
import StylizeNN
import StylizeTensor

@Suite struct ScratchTiming {
    @Test func timing() throws {
        guard let p = ProcessInfo.processInfo.environment["SCRATCH_TIMING"] else { return }
        let net = try VGG19(convolutions: cachedWeights(), pooling: .max, precision: Precision(rawValue: p)!)
        let x = randomTensor([1, 3, 384, 512], seed: 1)
        let taps: Set<String> = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
        for _ in 0..<4 {
            let t0 = Date()
            let f = try net.forward(x, taps: taps)
            let t1 = Date()
            _ = net.backward(f)
            let t2 = Date()
            print(p, "fwd", t1.timeIntervalSince(t0), "bwd", t2.timeIntervalSince(t1))
        }
    }
}
