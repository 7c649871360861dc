import Foundation
import Testing
import StylizeTensor
import Stylize

/// ../shared/images, found from this file's path (the package root's sibling).
let sharedImages = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/images").standardized.path

/// A fresh temporary folder holding copies of the named shared pictures and any extra files;
/// removed by the caller.
func photoFolder(copying pictures: [String], extra: [String: [UInt8]] = [:]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("stylize-photos-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    for name in pictures {
        let source = sharedImages + "/" + name
        guard FileManager.default.fileExists(atPath: source) else { throw MissingFixture(path: source) }
        try FileManager.default.copyItem(atPath: source, toPath: path + "/" + name)
    }
    for (name, bytes) in extra {
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
    }
    return path
}

/// Collects the loader's warnings, which arrive on its background thread.
private final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// A JPEG's start of image followed by garbage: recognised as JPEG, fails in the decoder.
private let corruptJPEG: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 37) }
private let textFile = Array("these are not the pixels you are looking for\n".utf8)

@Suite struct TrainingPhotosTests {
    @Test func batchesHaveTheShapeAndRange() throws {
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png", "rocket.jpg"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = try TrainingPhotos(folder: dir)
        #expect(photos.count == 3)
        #expect(photos.paths == ["chelsea.png", "coffee.png", "rocket.jpg"].map { dir + "/" + $0 })
        let batches = PhotoBatches(photos: photos, batchSize: 2, cropSize: 64, seed: 1, startStep: 0) { _ in }
        for expected in 0..<3 {
            let (step, batch) = try batches.next()
            #expect(step == expected)
            #expect(batch.shape == [2, 3, 64, 64])
            let values = batch.scalars
            #expect(values.allSatisfy { $0 >= 0 && $0 <= 255 })
            // 0–255, not 0–1: real photos have bright pixels.
            #expect(values.max()! > 100)
        }
    }

    @Test func batchesDependOnlyOnSeedAndStep() throws {
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = try TrainingPhotos(folder: dir)
        // Batch 3 of 4 pictures: steps straddle epochs.
        func run(seed: UInt64, start: Int, steps: Int) throws -> [Int: [Float]] {
            let batches = PhotoBatches(photos: photos, batchSize: 3, cropSize: 48, seed: seed, startStep: start) { _ in }
            var out: [Int: [Float]] = [:]
            for _ in 0..<steps {
                let (step, batch) = try batches.next()
                out[step] = batch.scalars
            }
            return out
        }
        let a = try run(seed: 7, start: 0, steps: 5)
        let b = try run(seed: 7, start: 0, steps: 5)
        #expect(a == b)
        let resumed = try run(seed: 7, start: 3, steps: 2)
        #expect(resumed.keys.sorted() == [3, 4])
        #expect(resumed[3] == a[3] && resumed[4] == a[4])
        let other = try run(seed: 8, start: 0, steps: 5)
        for step in 0..<5 { #expect(other[step] != a[step]) }
        // Consecutive steps differ too.
        #expect(a[0] != a[1])
    }

    @Test func flippingMirrorsTheSameCrops() throws {
        let dir = try photoFolder(copying: ["chelsea.png", "rocket.jpg"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = try TrainingPhotos(folder: dir)
        let plain = PhotoBatches(photos: photos, batchSize: 8, cropSize: 16, seed: 3, startStep: 0) { _ in }
        let flipping = PhotoBatches(photos: photos, batchSize: 8, cropSize: 16, seed: 3, startStep: 0,
                                    horizontalFlip: true) { _ in }
        let p = try plain.next().batch.scalars, f = try flipping.next().batch.scalars
        var mirrored = 0
        let size = 3 * 16 * 16
        for sample in 0..<8 {
            let a: [Float] = Array(p[(sample * size)..<((sample + 1) * size)])
            let b: [Float] = Array(f[(sample * size)..<((sample + 1) * size)])
            var mirror: [Float] = []
            for i in 0..<size {
                let column = i % 16
                mirror.append(a[i - column + 15 - column])
            }
            #expect(b == a || b == mirror)
            if b != a && b == mirror { mirrored += 1 }
        }
        // Eight fair coins: all eight the same side has probability 1/128; the seed is fixed.
        #expect(mirrored > 0 && mirrored < 8)
    }

    @Test func undecodableFilesAreSkippedWithOneWarningEach() throws {
        let dir = try photoFolder(copying: ["chelsea.png", "coffee.png"],
                             extra: ["broken.jpg": corruptJPEG, "notes.png": textFile, "README.txt": textFile])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = try TrainingPhotos(folder: dir)
        // Chosen by name: the text file named .txt is not a picture; the one named .png is listed.
        #expect(photos.paths == ["broken.jpg", "chelsea.png", "coffee.png", "notes.png"].map { dir + "/" + $0 })
        let warnings = Warnings()
        let batches = PhotoBatches(photos: photos, batchSize: 2, cropSize: 32, seed: 5, startStep: 0) { warnings.append($0) }
        // Six steps of two: every file is drawn three times.
        var first: [Float] = []
        for step in 0..<6 {
            let next = try batches.next()
            #expect(next.step == step && next.batch.shape == [2, 3, 32, 32])
            if step == 0 { first = next.batch.scalars }
        }
        let lines = warnings.all.sorted()
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(dir + "/broken.jpg: ") == true)
        #expect(lines.last?.hasPrefix(dir + "/notes.png: not a PNG or JPEG image") == true)
        #expect(lines.allSatisfy { !$0.contains("\n") })
        // The replacements are deterministic: a second loader gives the same first batch.
        let again = PhotoBatches(photos: photos, batchSize: 2, cropSize: 32, seed: 5, startStep: 0) { _ in }
        #expect(try again.next().batch.scalars == first)
    }

    @Test func missingEmptyOrFileFolderIsATypedError() throws {
        let dir = try photoFolder(copying: [], extra: ["README.txt": textFile])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: TrainingDataError.noPictures(folder: dir)) { try TrainingPhotos(folder: dir) }
        #expect(throws: TrainingDataError.noPictures(folder: dir)) { try TrainingPhotos(folder: dir + "/") }
        let missing = dir + "/nowhere"
        #expect(throws: TrainingDataError.folderNotFound(folder: missing)) { try TrainingPhotos(folder: missing) }
        let file = dir + "/README.txt"
        #expect(throws: TrainingDataError.notAFolder(folder: file)) { try TrainingPhotos(folder: file) }
        // One line each, starting with the folder.
        for (error, path) in [(TrainingDataError.noPictures(folder: dir), dir), (.folderNotFound(folder: missing), missing),
                              (.notAFolder(folder: file), file)] {
            #expect(error.description.hasPrefix(path + ": ") && !error.description.contains("\n"))
        }
    }

    @Test func picturesInSubfoldersCountAndHiddenOnesDoNot() throws {
        let dir = try photoFolder(copying: ["chelsea.png"], extra: [".hidden.png": textFile])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: sharedImages + "/rocket.jpg", toPath: dir + "/sub/ROCKET.JPG")
        #expect(try TrainingPhotos(folder: dir).paths == [dir + "/chelsea.png", dir + "/sub/ROCKET.JPG"])
    }

    @Test(.timeLimit(.minutes(1))) func everyFileCorruptIsAnErrorNotAHang() throws {
        let dir = try photoFolder(copying: [], extra: ["a.jpg": corruptJPEG, "b.png": textFile])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photos = try TrainingPhotos(folder: dir)
        let warnings = Warnings()
        let batches = PhotoBatches(photos: photos, batchSize: 4, cropSize: 32, seed: 0, startStep: 0) { warnings.append($0) }
        let expected = TrainingDataError.noDecodablePictures(folder: dir, count: 2)
        #expect(throws: expected) { try batches.next() }
        #expect(throws: expected) { try batches.next() }
        #expect(warnings.all.count == 2)
    }
}
