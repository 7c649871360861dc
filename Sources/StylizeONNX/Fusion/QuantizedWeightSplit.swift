/// int8 convolution weights rewritten to lie within ±64, for CPUs whose u8×s8 kernels add the
/// products pairwise into a saturating int16 (`QuantizedConvKernel.Sums.pairsOf7BitWeights`):
/// each weight w becomes a = ⌊w/2⌋ and b = w − a (both within −64…64), so Σ x·w = Σ x·a + Σ x·b
/// with no pair beyond 2·255·64 = 32640. The halves go against two copies of the input channels
/// (`split`), or become two sets of output channels whose sums are added afterwards
/// (`stackedOutputs`). Twice the multiply-adds; every sum exact.
enum QuantizedWeightSplit {
    /// Whether some weight lies beyond ±64 (a pair of such products can saturate).
    static func needed(_ weights: [Int8]) -> Bool {
        weights.contains { $0 > 64 || $0 < -64 }
    }

    /// OIHW weights → O×2I×H×W: for each output channel, ⌊w/2⌋ for the first I input channels,
    /// then w − ⌊w/2⌋ for their copies.
    static func split(_ weights: [Int8], outputChannels: Int) -> [Int8] {
        let perChannel = weights.count / outputChannels
        var out = [Int8]()
        out.reserveCapacity(2 * weights.count)
        for c in 0..<outputChannels {
            let block = weights[c * perChannel..<(c + 1) * perChannel]
            out += block.map { $0 >> 1 }  // arithmetic shift: ⌊w/2⌋
            out += block.map { $0 - ($0 >> 1) }
        }
        return out
    }

    /// OIHW weights → 2O×I×H×W: ⌊w/2⌋ for every output channel, then w − ⌊w/2⌋ for their copies.
    static func stackedOutputs(_ weights: [Int8]) -> [Int8] {
        weights.map { $0 >> 1 } + weights.map { $0 - ($0 >> 1) }
    }
}
