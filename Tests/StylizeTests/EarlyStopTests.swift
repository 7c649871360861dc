import Foundation
import Testing
import StylizeTensor
import StylizeIO
import Stylize

/// The `tolerance` rule: its arithmetic, its validation, and real runs with and without it.
@Suite struct EarlyStopTests {
    /// Feeds `objectives` until the rule says stop; the 1-based iteration it stopped at, or nil.
    func stopIteration(_ objectives: [Double], tolerance: Double, window: Int) -> Int? {
        var rule = EarlyStop(tolerance: tolerance, window: window)
        for (i, f) in objectives.enumerated() where rule.record(f) { return i + 1 }
        return nil
    }

    @Test func stopsWhenTheWindowsDecreaseFallsToTheTolerance() {
        // 1000 · 0.9^i: a steady 10% per iteration, 27% over 3, never stops at 1%.
        let geometric = (0..<50).map { 1000 * pow(0.9, Double($0)) }
        #expect(stopIteration(geometric, tolerance: 0.01, window: 3) == nil)
        // Falls 10% per iteration, then is flat: at iteration 6 the gain over 3 is 81 → 80 (1.2%),
        // at 7 it is 0.
        let flat = [100.0, 90, 81, 80, 80, 80, 80, 80]
        #expect(stopIteration(flat, tolerance: 0.01, window: 3) == 7)
        // Never before the window is full, and 0 never stops.
        #expect(stopIteration([5, 5, 5], tolerance: 0.5, window: 3) == nil)
        #expect(stopIteration(Array(repeating: 7, count: 100), tolerance: 0, window: 1) == nil)
    }

    @Test func aSpikeIsNotAGainNorAStop() {
        // The lowest value so far is compared: a step that raises the objective neither counts as
        // the window's start (which would look like a large decrease) nor ends the run.
        let spiky = [100.0, 50, 400, 49, 48.9, 48.85, 48.8]
        #expect(stopIteration(spiky, tolerance: 0.01, window: 2) == 6)
        #expect(stopIteration([100.0, 50, 400, 30, 20, 10], tolerance: 0.01, window: 2) == nil)
    }

    @Test(arguments: [-1e-3, .nan, .infinity])
    func badToleranceIsRefused(tolerance: Double) {
        var o = StyleTransferOptions()
        o.tolerance = tolerance
        expectRefused(o, mentioning: "tolerance must be a finite number ≥ 0")
    }

    /// A small real run: with a tolerance it stops before its iterations, at the first iteration
    /// where the reported objectives meet the rule; with tolerance 0 it runs them all.
    @Test func realRunStopsEarlyOnlyWithATolerance() throws {
        var o = StyleTransferOptions()
        o.imageSize = 64
        o.scales = [64]
        o.iterations = 300
        o.tolerance = 0.01
        o.toleranceWindow = 10
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        var reports: [StyleTransfer.Progress] = []
        _ = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
            .run(content: content, styles: [style], progress: { reports.append($0) })
        let stop = reports.count
        #expect(stop > o.toleranceWindow && stop < o.iterations, "stopped after \(stop)")
        #expect(reports.last?.stoppedEarly == true && reports.dropLast().allSatisfy { !$0.stoppedEarly })
        #expect(abs((reports.last?.fractionDone ?? 0) - 1) < 1e-9)
        // The rule, from the losses the run reported.
        let best = reports.map(\.losses.total).reduce(into: [Double]()) { $0.append(min($0.last ?? .infinity, $1)) }
        func gain(at i: Int) -> Double { (best[i - o.toleranceWindow] - best[i]) / best[i - o.toleranceWindow] }
        #expect(gain(at: stop - 1) <= o.tolerance, "gain \(gain(at: stop - 1)) at the stop")
        for i in o.toleranceWindow..<(stop - 1) { #expect(gain(at: i) > o.tolerance, "gain \(gain(at: i)) at \(i + 1)") }

        o.tolerance = 0
        o.iterations = stop + 5
        var count = 0
        _ = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
            .run(content: content, styles: [style], progress: { _ in count += 1 })
        #expect(count == stop + 5)
    }

    /// An early stop at the coarse scale hands over to the next scale, and the progress fraction
    /// still only grows and ends at 1.
    @Test func earlyStopAtTheCoarseScaleGoesOnToTheNext() throws {
        var o = StyleTransferOptions()
        o.imageSize = 64
        o.scales = [32, 64]
        o.scaleIterations = [300, 4]
        o.tolerance = 0.01
        o.toleranceWindow = 10
        let content = try loadReferenceImage("content"), style = try loadReferenceImage("style")
        var reports: [StyleTransfer.Progress] = []
        let result = try StyleTransfer(weights: sharedWeightsOrThrow(), options: o)
            .run(content: content, styles: [style], progress: { reports.append($0) })
        #expect(result.width == 64)
        let coarse = reports.filter { $0.scale == 1 }
        #expect(coarse.count < 300 && coarse.last?.stoppedEarly == true)
        #expect(reports.filter { $0.scale == 2 }.map(\.iteration) == [1, 2, 3, 4])
        let fractions = reports.map(\.fractionDone)
        #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 < $1 } && abs(fractions.last! - 1) < 1e-9)
    }
}
