/// The `tolerance` rule: an optimisation stops when its objective has stopped improving.
///
/// After each iteration it takes the lowest objective seen so far; once `window` iterations have
/// passed it compares that with the lowest seen `window` iterations earlier and stops when the
/// relative decrease is at most `tolerance`:
///
///     (best[i − window] − best[i]) / |best[i − window]| ≤ tolerance
///
/// The lowest value rather than the last one, because L-BFGS with a fixed step (torch's without a
/// line search) now and then takes a step that raises the objective for an iteration or two; a
/// window rather than one iteration's change, because single iterations' gains vary by orders of
/// magnitude. neural-style's torch L-BFGS has only absolute limits (tolX, tolFun) that a style
/// transfer's objective, in the millions, never reaches.
public struct EarlyStop: Sendable {
    public let tolerance: Double
    public let window: Int
    /// The lowest objective after each iteration recorded so far, oldest first.
    private var best: [Double] = []

    /// `tolerance` 0 never stops.
    public init(tolerance: Double, window: Int) {
        precondition(window >= 1, "the early-stop window must be at least one iteration")
        self.tolerance = tolerance
        self.window = window
    }

    /// Iterations recorded.
    public var iterations: Int { best.count }

    /// Records one iteration's objective; true when the run should stop after it.
    public mutating func record(_ objective: Double) -> Bool {
        let lowest = Swift.min(best.last ?? .infinity, objective)
        best.append(lowest)
        guard tolerance > 0, best.count > window else { return false }
        let earlier = best[best.count - 1 - window]
        return earlier - lowest <= tolerance * abs(earlier)
    }
}
