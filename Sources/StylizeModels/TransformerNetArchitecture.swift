import StylizeNN

/// The shape of a feed-forward style network (Johnson, Alahi & Fei-Fei 2016, as in PyTorch
/// examples' `fast_neural_style/transformer_net.py`): three convolutions down, residual blocks,
/// two upsampling convolutions and a 9×9 convolution out, each but the last followed by instance
/// normalisation and ReLU. With more than one style the normalisations are conditional (Dumoulin,
/// Shlens & Kudlur 2017): one row of scale and shift per style, mixed by a weight vector.
///
/// The trainer and the exporter agree on the parameters through `parameterShapes`.
public struct TransformerNetArchitecture: Sendable, Equatable, Codable {
    /// Channels after the first, second and third convolution (the upsampling path mirrors them).
    public var channels: [Int]
    /// How many residual blocks sit between the down- and the upsampling path.
    public var residualBlocks: Int
    /// How many styles the network holds (1: a plain network; more: conditional instance norm).
    public var styles: Int
    /// How the two upsampling convolutions enlarge their input: nearest, as Johnson et al.'s and
    /// PyTorch examples' networks, or bilinear.
    public var upsampling: UpsamplingMode

    /// Johnson et al.'s network: channels 32, 64, 128 and five residual blocks, one style.
    public static let standard = TransformerNetArchitecture(channels: [32, 64, 128], residualBlocks: 5, styles: 1)

    public init(channels: [Int] = [32, 64, 128], residualBlocks: Int = 5, styles: Int = 1, upsampling: UpsamplingMode = .nearest) {
        self.channels = channels
        self.residualBlocks = residualBlocks
        self.styles = styles
        self.upsampling = upsampling
    }

    private enum CodingKeys: String, CodingKey { case channels, residualBlocks, styles, upsampling }

    /// Checkpoints from before `upsampling` existed were nearest.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decode([Int].self, forKey: .channels)
        residualBlocks = try c.decode(Int.self, forKey: .residualBlocks)
        styles = try c.decode(Int.self, forKey: .styles)
        upsampling = try c.decodeIfPresent(UpsamplingMode.self, forKey: .upsampling) ?? .nearest
    }

    /// A one-line description, "32,64,128 × 5 blocks".
    public var summary: String {
        channels.map(String.init).joined(separator: ",") + " × \(residualBlocks) blocks"
            + (styles > 1 ? ", \(styles) styles" : "") + (upsampling == .nearest ? "" : ", \(upsampling.rawValue) upsampling")
    }

    /// Why these numbers make no network, or nil when they do.
    public var problem: String? {
        if channels.count != 3 { return "channels must be three numbers, got \(channels)" }
        if channels.contains(where: { $0 < 1 }) { return "channels must be positive, got \(channels)" }
        if residualBlocks < 0 { return "residual blocks must be 0 or more, got \(residualBlocks)" }
        if styles < 1 { return "styles must be 1 or more, got \(styles)" }
        return nil
    }

    /// Every parameter's name and shape, in the network's order: `conv1.weight` [c1, 3, 9, 9],
    /// `conv1.bias` [c1], `in1.weight` and `in1.bias` [styles, c1], … `res1.conv1.weight`,
    /// `res1.in1.weight`, … `deconv1` to `deconv3` (PyTorch's names, so that a state dict maps
    /// one to one). Empty when `problem` is not nil.
    public var parameterShapes: [(name: String, shape: [Int])] {
        guard problem == nil else { return [] }
        let (c1, c2, c3) = (channels[0], channels[1], channels[2])
        var list: [(name: String, shape: [Int])] = []
        func conv(_ name: String, _ out: Int, _ inputs: Int, _ k: Int) {
            list.append(("\(name).weight", [out, inputs, k, k]))
            list.append(("\(name).bias", [out]))
        }
        func norm(_ name: String, _ c: Int) {
            list.append(("\(name).weight", [styles, c]))
            list.append(("\(name).bias", [styles, c]))
        }
        conv("conv1", c1, 3, 9); norm("in1", c1)
        conv("conv2", c2, c1, 3); norm("in2", c2)
        conv("conv3", c3, c2, 3); norm("in3", c3)
        for i in stride(from: 1, through: residualBlocks, by: 1) {
            conv("res\(i).conv1", c3, c3, 3); norm("res\(i).in1", c3)
            conv("res\(i).conv2", c3, c3, 3); norm("res\(i).in2", c3)
        }
        conv("deconv1", c2, c3, 3); norm("in4", c2)
        conv("deconv2", c1, c2, 3); norm("in5", c1)
        conv("deconv3", 3, c1, 9)
        return list
    }
}
