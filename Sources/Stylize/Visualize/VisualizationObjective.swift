import StylizeModels
import StylizeTensor

/// What a feature visualization maximises at one VGG-19 layer: a weighted sum of channels (one
/// channel, lucid's "dog + 0.5·cat" combinations) or a direction in the layer's channel space,
/// averaged over the layer's positions or taken at its centre neuron only; or the negative of it.
public struct VisualizationObjective: Sendable, Equatable {
    public var layer: String
    /// A weight per channel (most of them 0).
    public var weights: [Float]
    /// Only the centre position counts (the "neuron" of Yosinski et al.), not the channel's mean.
    public var neuron = false
    /// Make it as small as possible instead.
    public var minimize = false

    /// Channel `channel` of `layer`.
    public init(layer: String, channel: Int) throws(StylizeError) {
        try self.init(layer: layer, channels: [(channel, 1)])
    }

    /// The sum of `channels` (index, weight) of `layer`.
    public init(layer: String, channels: [(index: Int, weight: Float)]) throws(StylizeError) {
        let count = try Self.channelCount(layer)
        var weights = [Float](repeating: 0, count: count)
        for (index, weight) in channels {
            guard (0..<count).contains(index) else {
                throw .invalidOption("channel \(index) is out of range: \(layer) has \(count) channels (0–\(count - 1))")
            }
            guard weight.isFinite else { throw .invalidOption("channel \(index)'s weight is not finite") }
            weights[index] += weight
        }
        guard weights.contains(where: { $0 != 0 }) else { throw .invalidOption("the channel weights add up to nothing") }
        self.layer = layer
        self.weights = weights
    }

    /// A direction in `layer`'s channel space (one weight per channel), e.g. read from a file.
    public init(layer: String, direction: [Float]) throws(StylizeError) {
        let count = try Self.channelCount(layer)
        guard direction.count == count else {
            throw .invalidOption("the direction has \(direction.count) values; \(layer) has \(count) channels")
        }
        guard direction.allSatisfy(\.isFinite), direction.contains(where: { $0 != 0 }) else {
            throw .invalidOption("the direction must be finite and not all zero")
        }
        self.layer = layer
        weights = direction
    }

    /// Parses "42", "3+0.5*17" or "12-0.25*40": channel indices with optional weights.
    public init(layer: String, parsing expression: String) throws(StylizeError) {
        var terms: [(index: Int, weight: Float)] = []
        var text = expression.replacingOccurrences(of: " ", with: "")
        if !text.hasPrefix("-") && !text.hasPrefix("+") { text = "+" + text }
        var rest = Substring(text)
        while let sign = rest.first {
            rest = rest.dropFirst()
            let end = rest.firstIndex(where: { $0 == "+" || $0 == "-" }) ?? rest.endIndex
            let term = rest[..<end]
            rest = rest[end...]
            let parts = term.split(separator: "*", omittingEmptySubsequences: false)
            let index: Int?, weight: Float?
            switch parts.count {
            case 1: (index, weight) = (Int(parts[0]), 1)
            case 2: (index, weight) = (Int(parts[1]), Float(parts[0]))
            default: (index, weight) = (nil, nil)
            }
            guard let index, let weight else {
                throw .invalidOption("'\(expression)' is not a channel combination such as 42 or 3+0.5*17")
            }
            terms.append((index, sign == "-" ? -weight : weight))
        }
        guard !terms.isEmpty else { throw .invalidOption("give a channel such as 42 or 3+0.5*17") }
        try self.init(layer: layer, channels: terms)
    }

    static func channelCount(_ layer: String) throws(StylizeError) -> Int {
        guard let i = VGG19.layerNames.firstIndex(of: layer) else {
            throw .invalidOption("unknown layer '\(layer)' (VGG-19 has relu1_1 … relu5_4; see `stylize layers`)")
        }
        return VGG19.channels[i]
    }

    /// The objective's value for image `image` of `activation` ([N, C, h, w]), sign included;
    /// replaces that image's activation by the value's gradient with respect to it.
    func apply(to activation: inout Tensor, image: Int = 0) -> Double {
        let (c, h, w) = (activation.shape[1], activation.shape[2], activation.shape[3])
        let positions = neuron ? [(h / 2) * w + w / 2] : Array(0..<(h * w))
        let sign: Float = minimize ? -1 : 1
        let share = sign / Float(positions.count)
        var value = 0.0
        activation.withUnsafeMutableBufferPointer { a in
            for ch in 0..<c {
                let plane = (image * c + ch) * h * w
                let weight = weights[ch]
                if weight != 0 { for p in positions { value += Double(weight * a[plane + p]) } }
                for i in plane..<(plane + h * w) { a[i] = 0 }
                if weight != 0 { for p in positions { a[plane + p] = weight * share } }
            }
        }
        return Double(sign) * value / Double(positions.count)
    }
}
