import Foundation

/// A mix of a conditional style network's built-in styles: one weight per style, non-negative,
/// summing to 1 (the conditional instance normalization of Dumoulin et al. 2017 blends each
/// style's scale and shift by these weights, so a weight vector that did not sum to 1 would also
/// scale the normalised activations).
public struct StyleWeights: Sendable, Equatable, CustomStringConvertible {
    /// One weight per style, ≥ 0, summing to 1.
    public let values: [Float]

    /// The style `index` alone.
    /// - Throws: `.invalidStyle` when `index` is not in `0..<count`.
    public init(index: Int, count: Int = 26) throws(FastStyleError) {
        try self.init(blend: [(index, 1)], count: count)
    }

    /// Several styles, each `(index, weight)`; the weights are normalised to sum to 1 and an index
    /// given twice adds up.
    /// - Throws: `.invalidStyle` for an index out of range, a negative or non-finite weight, or
    ///   weights that are all zero.
    public init(blend: [(index: Int, weight: Float)], count: Int = 26) throws(FastStyleError) {
        guard count > 0 else { throw .invalidStyle("the network has no styles") }
        var values = [Float](repeating: 0, count: count)
        for (index, weight) in blend {
            guard (0..<count).contains(index) else {
                throw .invalidStyle("style index must be 0 to \(count - 1), got \(index)")
            }
            guard weight.isFinite, weight >= 0 else {
                throw .invalidStyle("style weights must be non-negative numbers, got \(weight) for style \(index)")
            }
            values[index] += weight
        }
        let sum = values.reduce(0, +)
        guard sum > 0 else { throw .invalidStyle("style weights must not all be zero") }
        self.values = values.map { $0 / sum }
    }

    /// Parses `"19"` (one style) or `"3:0.5,12:0.5"` (a blend; a missing weight counts as 1, so
    /// `"3,12"` is an even mix).
    /// - Throws: `.invalidStyle` naming the part that cannot be read, or as `init(blend:count:)`.
    public init(parsing text: String, count: Int = 26) throws(FastStyleError) {
        try self.init(blend: Self.parse(text), count: count)
    }

    /// The `(index, weight)` pairs of a style text, read but not checked against a network.
    /// - Throws: `.invalidStyle` naming the part that cannot be read.
    public static func parse(_ text: String) throws(FastStyleError) -> [(index: Int, weight: Float)] {
        let syntax = "use an index such as 19, or a blend such as 3:0.5,12:0.5"
        var blend: [(index: Int, weight: Float)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(fields.count), let index = Int(fields[0]) else {
                throw .invalidStyle("cannot read style '\(text)': '\(part)' is not an index; \(syntax)")
            }
            var weight: Float = 1
            if fields.count == 2 {
                guard let w = Float(fields[1]) else {
                    throw .invalidStyle("cannot read style '\(text)': '\(fields[1])' is not a weight; \(syntax)")
                }
                weight = w
            }
            blend.append((index, weight))
        }
        return blend
    }

    /// `"19"` for one style, else `"3:0.5,12:0.5"` (the non-zero weights).
    public var description: String {
        let used = values.indices.filter { values[$0] > 0 }
        if used.count == 1 { return "\(used[0])" }
        return used.map { "\($0):\(values[$0])" }.joined(separator: ",")
    }
}
