import Foundation
import StylizeTensor
import StylizeIO
import StylizeModels

/// ../shared/reference/vgg19, found from this file's path (the package root's sibling).
let referenceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/reference/vgg19").standardized.path

/// The cached weights, loaded once for all tests. The test command fetches them first
/// (scripts/fetch-weights.sh); when they are missing the tests that need them fail with the
/// loader's message, they are never skipped.
let cachedWeights: Result<VGG19Weights, TorchFileError> = Result { () throws(TorchFileError) in try VGG19Weights.loadCached() }

func sharedWeightsOrThrow() throws -> VGG19Weights { try cachedWeights.get() }

/// A fixture the tests need is not there; says where it comes from.
struct MissingFixture: Error, CustomStringConvertible {
    let path: String
    var origin = "../shared/reference, the shared folder laid beside the repository (see its README)"
    var description: String { "missing fixture \(path): it comes from \(origin)" }
}

/// A raw little-endian float32 file; a missing or empty one is a `MissingFixture` failure.
func readF32(_ path: String) throws -> [Float] {
    guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { throw MissingFixture(path: path) }
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

/// content.png or style.png from the reference folder (64×48).
func loadReferenceImage(_ name: String) throws -> Image {
    try ImageIO.load(referenceDirectory + "/\(name).png")
}
