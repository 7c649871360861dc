import Foundation
import StylizeIO
import StylizeTensor

/// The pictures a style network is trained on: every file named `.jpg`, `.jpeg` or `.png` (any
/// case) in a folder and, recursively, its subfolders.
///
/// Subfolders count so that a training set can keep one folder per source (and its licence);
/// hidden files and folders (names starting with `.`) are left out, and symbolic links to folders
/// are not followed, so a link cycle cannot make the listing endless. Files are chosen by name
/// only: one whose bytes are not a picture is found out, and skipped, when a batch decodes it.
public struct TrainingPhotos: Sendable {
    /// The folder as the caller gave it (without a trailing `/`); errors name it.
    public let folder: String
    /// The pictures' paths, sorted by their UTF-8 bytes, so that the same folder gives the same
    /// order, and hence the same batches, on every machine and in every locale.
    public let paths: [String]

    /// The number of pictures.
    public var count: Int { paths.count }

    /// Lists the pictures in `folder` and its subfolders.
    ///
    /// - Throws: `TrainingDataError` naming the folder: `.folderNotFound`, `.notAFolder`,
    ///   `.unreadable` (a folder that cannot be listed), `.noPictures`.
    public init(folder: String) throws(TrainingDataError) {
        var root = folder
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.folder = root
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder) else {
            throw .folderNotFound(folder: root)
        }
        guard isFolder.boolValue else { throw .notAFolder(folder: root) }
        var found: [String] = []
        try Self.collect(root, into: &found)
        guard !found.isEmpty else { throw .noPictures(folder: root) }
        paths = found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The extensions that mark a file as a picture.
    static let pictureExtensions: Set<String> = ["jpg", "jpeg", "png"]

    private static func collect(_ folder: String, into found: inout [String]) throws(TrainingDataError) {
        let manager = FileManager.default
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: folder)
        } catch {
            throw .unreadable(folder: folder, reason: (error as NSError).localizedDescription)
        }
        for name in names where !name.hasPrefix(".") {
            let path = folder == "/" ? "/" + name : folder + "/" + name
            var isFolder: ObjCBool = false
            // A dangling symbolic link: nothing to read.
            guard manager.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue {
                let isLink = (try? manager.destinationOfSymbolicLink(atPath: path)) != nil
                if !isLink { try collect(path, into: &found) }
            } else if let dot = name.lastIndex(of: "."),
                      pictureExtensions.contains(name[name.index(after: dot)...].lowercased()) {
                found.append(path)
            }
        }
    }
}

/// Random square crops of the training pictures, in batches, decoded on a background thread one
/// step ahead of the trainer.
///
/// The batch for step k depends only on the seed, k and the list of files, never on timing or on
/// the step a run started from, so that a resumed run continues bit for bit as the uninterrupted
/// one would have. Sample i (= k · batchSize + j, the j-th picture of step k) is the picture at
/// position i mod count of epoch i / count's permutation of the files (a Fisher–Yates shuffle
/// seeded by the seed and the epoch), cropped with a generator seeded by the seed and i.
///
/// A file that cannot be decoded is reported once through `warn` (one line naming it) and is
/// replaced by the next decodable picture in the same permutation; which files decode is a
/// property of the files, so the replacement is as deterministic as the rest.
///
/// Memory stays bounded: the thread finishes at most one batch beyond the one the caller holds,
/// then waits until `next()` takes it.
public final class PhotoBatches: Sendable {
    /// The batches have shape [batchSize, 3, cropSize, cropSize].
    public let batchSize: Int
    /// The side of each crop, in pixels.
    public let cropSize: Int

    private let channel: BatchChannel

    /// Starts decoding the batch for `startStep`.
    ///
    /// Each picture becomes a square crop resized (Lanczos, see `Image.resized(width:height:)`) to
    /// `cropSize`×`cropSize`: the crop's side is the picture's shorter side divided by a random
    /// factor in `scales` (so 1.0…1.5 matches resizing the shorter side to 1.0–1.5 × `cropSize`
    /// and cutting `cropSize` pixels out of it), at a random position, mirrored left to right
    /// with probability ½ when `horizontalFlip` is on. A picture whose shorter side is below
    /// `cropSize` is enlarged (interpolated), not refused.
    ///
    /// - Parameters:
    ///   - startStep: the first step `next()` returns; a resumed run passes the step it resumes at.
    ///   - warn: called, from the background thread, with one line for each file that fails to
    ///     decode (once per file).
    /// - Precondition: `batchSize` and `cropSize` are at least 1, `startStep` is not negative and
    ///   `scales` lies in (0, ∞).
    public init(photos: TrainingPhotos, batchSize: Int, cropSize: Int, seed: UInt64, startStep: Int,
                scales: ClosedRange<Double> = 1.0...1.5, horizontalFlip: Bool = false,
                warn: @escaping @Sendable (String) -> Void) {
        precondition(batchSize >= 1 && cropSize >= 1, "batch size and crop size must be at least 1")
        precondition(startStep >= 0, "the start step must not be negative, got \(startStep)")
        precondition(scales.lowerBound > 0 && scales.upperBound.isFinite, "crop scales must be positive, got \(scales)")
        self.batchSize = batchSize
        self.cropSize = cropSize
        let channel = BatchChannel()
        self.channel = channel
        let maker = BatchMaker(photos: photos, batchSize: batchSize, cropSize: cropSize, seed: seed,
                               scales: scales, horizontalFlip: horizontalFlip, warn: warn)
        // The thread holds the channel, not `self`, so that dropping the last reference to `self`
        // runs `deinit`, which stops the thread.
        let thread = Thread {
            var failed = Set<Int>()
            var step = startStep
            while channel.waitForRoom() {
                let result: Result<Tensor, TrainingDataError>
                do throws(TrainingDataError) {
                    result = .success(try maker.batch(step: step, failed: &failed))
                } catch {
                    result = .failure(error)
                }
                channel.put(step: step, result)
                if case .failure = result { return }
                step += 1
            }
        }
        thread.name = "stylize.photo-batches"
        thread.start()
    }

    deinit { channel.close() }

    /// The batch for the next step: [batchSize, 3, cropSize, cropSize], RGB in 0–255 (the range
    /// Johnson et al.'s networks work in). Waits only when the background thread has not
    /// finished it yet.
    ///
    /// - Throws: `.noDecodablePictures` once every file has failed to decode; every later call
    ///   throws it again.
    public func next() throws(TrainingDataError) -> (step: Int, batch: Tensor) {
        let (step, result) = channel.take()
        switch result {
        case .success(let batch): return (step, batch)
        case .failure(let error): throw error
        }
    }
}

/// The hand-over between the background thread and `next()`: at most one finished batch.
///
/// `@unchecked Sendable` because all mutable state is read and written under `condition`'s lock.
private final class BatchChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: (step: Int, result: Result<Tensor, TrainingDataError>)?
    /// A failure is kept, so that every later `take()` reports it instead of waiting forever.
    private var failure: (step: Int, error: TrainingDataError)?
    private var closed = false

    /// Waits until the slot is empty; false once the owner is gone and the thread should stop.
    func waitForRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while ready != nil && !closed { condition.wait() }
        return !closed
    }

    func put(step: Int, _ result: Result<Tensor, TrainingDataError>) {
        condition.lock()
        ready = (step, result)
        if case .failure(let error) = result { failure = (step, error) }
        condition.broadcast()
        condition.unlock()
    }

    func take() -> (step: Int, result: Result<Tensor, TrainingDataError>) {
        condition.lock()
        defer { condition.unlock() }
        while ready == nil {
            if let failure { return (failure.step, .failure(failure.error)) }
            condition.wait()
        }
        let taken = ready!
        ready = nil
        condition.broadcast()
        return taken
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Makes the batch for a step; everything random is derived from (seed, step), see `PhotoBatches`.
private struct BatchMaker: Sendable {
    let photos: TrainingPhotos
    let batchSize: Int
    let cropSize: Int
    let seed: UInt64
    let scales: ClosedRange<Double>
    let horizontalFlip: Bool
    let warn: @Sendable (String) -> Void

    /// Separate streams for the shuffles and the crops, so that neither's seeds can coincide.
    private static let permutationStream: UInt64 = 1
    private static let cropStream: UInt64 = 2

    /// - Parameter failed: the indices (in `photos.paths`) of the files already known not to
    ///   decode; kept by the caller across steps, so each is read and reported only once.
    func batch(step: Int, failed: inout Set<Int>) throws(TrainingDataError) -> Tensor {
        let plane = cropSize * cropSize
        var batch = Tensor(shape: [batchSize, 3, cropSize, cropSize])
        var permutation: (epoch: Int, order: [Int])?
        for j in 0..<batchSize {
            let sample = step * batchSize + j
            let epoch = sample / photos.count
            if permutation?.epoch != epoch { permutation = (epoch, shuffled(epoch: epoch)) }
            let image = try decodable(from: sample % photos.count, in: permutation!.order, failed: &failed)
            let crop = self.crop(image, sample: sample)
            crop.pixels.withUnsafeBufferPointer { source in
                batch.withUnsafeMutableBufferPointer { destination in
                    let base = destination.baseAddress! + j * 3 * plane
                    for i in 0..<(3 * plane) { base[i] = source[i] * 255 }
                }
            }
        }
        return batch
    }

    /// The first picture that decodes, starting at `position` of `order` and wrapping around.
    private func decodable(from position: Int, in order: [Int],
                           failed: inout Set<Int>) throws(TrainingDataError) -> Image {
        for offset in 0..<order.count {
            let index = order[(position + offset) % order.count]
            if failed.contains(index) { continue }
            do {
                return try ImageIO.load(photos.paths[index])
            } catch {
                failed.insert(index)
                warn("\(error.description); skipped")
            }
        }
        throw .noDecodablePictures(folder: photos.folder, count: photos.count)
    }

    /// Epoch `epoch`'s order of the files: a Fisher–Yates shuffle.
    private func shuffled(epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: Self.derivedSeed(seed, Self.permutationStream, UInt64(epoch)))
        var order = Array(0..<photos.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Self.uniform(below: i + 1, &generator))
        }
        return order
    }

    /// A random square of `image` resized to `cropSize`×`cropSize`, in [0, 1].
    private func crop(_ image: Image, sample: Int) -> Image {
        var generator = SeededGenerator(seed: Self.derivedSeed(seed, Self.cropStream, UInt64(sample)))
        // Every draw is made whatever the options, so that turning the flip on changes nothing
        // else about a crop.
        let unit = Double(generator.next() >> 11) * 0x1p-53
        let factor = scales.lowerBound + unit * (scales.upperBound - scales.lowerBound)
        let shorter = min(image.width, image.height)
        let side = min(shorter, max(1, Int((Double(shorter) / factor).rounded())))
        let x = Self.uniform(below: image.width - side + 1, &generator)
        let y = Self.uniform(below: image.height - side + 1, &generator)
        let flip = generator.next() >> 63 == 1
        var result = image.cropped(x: x, y: y, width: side, height: side).resized(width: cropSize, height: cropSize)
        if horizontalFlip && flip { result.mirrorLeftToRight() }
        return result
    }

    /// Uniform in 0..<n by the high half of a 128-bit product (Lemire's method without the
    /// rejection step; its bias, below n / 2⁶⁴, is immaterial here). Written out rather than
    /// `Int.random(in:using:)`, whose algorithm the standard library may change, which would
    /// change the batches of a run resumed under a newer compiler.
    private static func uniform(below n: Int, _ generator: inout SeededGenerator) -> Int {
        Int(generator.next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A seed for item `index` of stream `stream`: the run's seed, the stream and the index pass
    /// through SplitMix64 in turn, so that nearby indices give unrelated generators.
    private static func derivedSeed(_ seed: UInt64, _ stream: UInt64, _ index: UInt64) -> UInt64 {
        var outer = SeededGenerator(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        var inner = SeededGenerator(seed: outer.next() ^ index)
        return inner.next()
    }
}

private extension Image {
    mutating func mirrorLeftToRight() {
        let (w, rows) = (width, 3 * height)
        pixels.withUnsafeMutableBufferPointer { values in
            for row in 0..<rows {
                let start = row * w
                var (a, b) = (start, start + w - 1)
                while a < b { values.swapAt(a, b); a += 1; b -= 1 }
            }
        }
    }
}
