import StylizeIO
import StylizeONNX

/// A texture network trained by `stylize train --texture` (Ulyanov et al. 2016): noise in, a
/// picture of the texture out, at any size; each seed gives another picture.
public final class TextureNetwork: Sendable {
    private let runner: PictureRunner

    /// Reads the network in `path`.
    ///
    /// - Throws: `.model` when the file cannot be read as ONNX, `.incompatibleModel` when it is
    ///   not a texture network (its metadata must say `input: noise`, as `TransformerNetExport`
    ///   writes for texture networks).
    public init(path: String) throws(FastStyleError) {
        let model = try loadNetwork(path)
        guard model.metadata["input"] == "noise", model.inputs.count == 1, let input = model.inputs.first else {
            let what = model.metadata["input"].map { "its input is a \($0)" } ?? "it does not say its input is noise"
            throw .incompatibleModel(file: path, reason: "not a texture network made by `stylize train --texture` (\(what)); style networks run with `stylize fast --model`")
        }
        runner = try PictureRunner(model: model, path: path, input: input, scale: 255)
    }

    /// A `width` × `height` picture of the texture; another `seed`, another picture.
    public func synthesize(width: Int, height: Int, seed: UInt64) throws(FastStyleError) -> Image {
        guard width >= fastStyleMinimumSide, height >= fastStyleMinimumSide else {
            throw .tooSmall(width: width, height: height, minimum: fastStyleMinimumSide)
        }
        // Noise already at a multiple of 4, so that none of it is a reflection of the rest.
        let noise = TextureNoise.picture(width: (width + 3) / 4 * 4, height: (height + 3) / 4 * 4, seed: seed)
        return try runner(noise).cropped(x: 0, y: 0, width: width, height: height)
    }
}
