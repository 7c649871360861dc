import Foundation

/// How much memory a run needs, so that sizes beyond the machine are refused before any work
/// (a picture of --image-size 100000 would otherwise grow until the system kills it).
extension StyleTransferOptions {
    /// Bytes per pixel of VGG-19's activations and gradients to relu5_1 at float32, with the
    /// buffers the plan keeps and the process around them; bf16 needs less, so this bounds both.
    public static let networkBytesPerPixel = 2400

    /// Peak bytes of optimising a picture of `pixels` pixels whose style images have
    /// `stylePixels` (the network runs on one at a time): the network, plus the optimizer's state
    /// (L-BFGS: two image-sized float vectors per history pair; Adam: three).
    public func estimatedPeakBytes(pixels: Int, stylePixels: Int) -> Double {
        let optimizerVectors = optimizer == .lbfgs ? 2 * lbfgsHistorySize + 4 : 6
        return Double(max(pixels, stylePixels)) * Double(Self.networkBytesPerPixel)
            + Double(pixels) * Double(optimizerVectors * 3 * MemoryLayout<Float>.stride)
    }

    /// The longer side style images are resized to for a picture of longer side `side`
    /// (`styleScale ×` it, at least 1, capped at 2³⁰ so that absurd scales reach `checkMemory`
    /// instead of overflowing).
    public func styleSide(forLongerSide side: Int) -> Int {
        max(1, Int(min((Double(side) * Double(styleScale)).rounded(), Double(1 << 30))))
    }

    /// The memory a run may plan for: 90% of the machine's.
    public static var memoryBudget: Double { Double(ProcessInfo.processInfo.physicalMemory) * 0.9 }

    /// Refuses a `width`×`height` output (largest style image `styleWidth`×`styleHeight`) whose
    /// run would not fit in `memoryBudget`, naming the largest size of the bigger one that would:
    /// `pictureSize` and `styleSize` say what sets each ("--image-size", …).
    public func checkMemory(width: Int, height: Int, styleWidth: Int, styleHeight: Int,
                            pictureSize: String, styleSize: String) throws(StylizeError) {
        let pixels = width.multipliedReportingOverflow(by: height)
        let stylePixels = styleWidth.multipliedReportingOverflow(by: styleHeight)
        let needed = pixels.overflow || stylePixels.overflow
            ? Double.infinity : estimatedPeakBytes(pixels: pixels.partialValue, stylePixels: stylePixels.partialValue)
        let budget = Self.memoryBudget
        guard needed > budget else { return }
        let shrink = needed.isFinite ? (budget / needed).squareRoot() : 0
        let styleDominates = stylePixels.overflow || (!pixels.overflow && stylePixels.partialValue > pixels.partialValue)
        let (what, side) = styleDominates ? (styleSize, max(styleWidth, styleHeight)) : (pictureSize, max(width, height))
        throw .invalidOption(String(format: "a %d×%d picture with %d×%d style images needs about %.0f GiB, more than the %.0f GiB (90%% of this machine's memory) a run may use: %@ must be at most about %d here",
                                    width, height, styleWidth, styleHeight, min(needed, 1e18) / 1_073_741_824,
                                    budget / 1_073_741_824, what, Int(Double(side) * shrink)))
    }
}
