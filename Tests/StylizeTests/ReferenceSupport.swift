import Foundation
import StylizeTensor
import StylizeIO

/// ../shared/reference/vgg19, found from this file's path (the package root's sibling).
let referenceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/reference/vgg19").standardized.path

/// Whether the VGG-19 weights are cached (scripts/fetch-weights.sh); the tests that need them
/// are skipped otherwise.
let weightsAvailable = FileManager.default.fileExists(atPath: WeightsCache.weightsPath())

/// The cached weights, loaded once for all tests.
let sharedWeights: VGG19Weights? = try? VGG19Weights.loadCached()

/// A raw little-endian float32 file.
func readF32(_ path: String) -> [Float] {
    let data = FileManager.default.contents(atPath: path) ?? Data()
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

/// content.png or style.png from the reference folder (64×48).
func loadReferenceImage(_ name: String) throws -> Image {
    try ImageIO.load(referenceDirectory + "/\(name).png")
}
