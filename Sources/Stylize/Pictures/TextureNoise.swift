import StylizeIO
import StylizeTensor

/// The input of a texture network (`stylize train --texture`): every value uniform in [0, 1]
/// (0–255 once the network scales it), independently, from a seed. The same seed and size give
/// the same noise, so the same picture, everywhere.
public enum TextureNoise {
    /// A [count, 3, height, width] batch of noise in [0, 1].
    public static func batch(count: Int, width: Int, height: Int, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        var noise = Tensor(shape: [count, 3, height, width])
        noise.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = Float(generator.next() >> 40) * 0x1p-24 }
        }
        return noise
    }

    /// One picture of noise.
    public static func picture(width: Int, height: Int, seed: UInt64) -> Image {
        Image(pixels: batch(count: 1, width: width, height: height, seed: seed))
    }
}
