import Foundation
import StylizeTensor
import ZIPFoundation

// MARK: - Errors

/// Why a `torch.save` file (or a VGG-19 checkpoint in one) could not be read.
///
/// Every case names the file, and `description` is one line meant for end users: a CLI can print
/// it as is. Corrupt or hostile input always ends in one of these, never in a crash.
public enum TorchFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read (missing, permissions, I/O error).
    case unreadable(file: String, reason: String)
    /// The bytes are neither a zip-format nor a legacy `torch.save` file.
    case notATorchFile(file: String, reason: String)
    /// The file ends before the data it announces.
    case truncated(file: String, reason: String)
    /// The file is structurally invalid (bad opcode arguments, out-of-range views, …).
    case corrupt(file: String, reason: String)
    /// The pickle asks for a Python global outside the allow-list (`module.name`); nothing is run.
    case forbiddenGlobal(String, file: String)
    /// Valid PyTorch data that this reader does not handle (big-endian files, an opcode it lacks, …).
    case unsupported(file: String, reason: String)
    /// The cached VGG-19 weights are not at `path`.
    case weightsNotFound(path: String)
    /// A VGG-19 checkpoint lacks these layers (each named with the key that was looked for).
    case missingLayers([String], file: String)
    /// A VGG-19 layer's tensor has the wrong shape.
    case shapeMismatch(layer: String, expected: [Int], actual: [Int], file: String)
    /// The checkpoint holds none of the known VGG-19 key layouts, or a tensor of the wrong kind.
    case unrecognizedWeights(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .notATorchFile(let file, _), .truncated(let file, _),
             .corrupt(let file, _), .forbiddenGlobal(_, let file), .unsupported(let file, _),
             .missingLayers(_, let file), .shapeMismatch(_, _, _, let file),
             .unrecognizedWeights(let file, _):
            return file
        case .weightsNotFound(let path):
            return path
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read file: \(reason)"
        case .notATorchFile(let file, let reason):
            return "\(file): not a PyTorch (torch.save) file: \(reason)"
        case .truncated(let file, let reason):
            return "\(file): file is truncated: \(reason)"
        case .corrupt(let file, let reason):
            return "\(file): corrupt PyTorch file: \(reason)"
        case .forbiddenGlobal(let name, let file):
            return "\(file): refusing to load: the pickle references the Python global '\(name)', which is not an allowed tensor or container type"
        case .unsupported(let file, let reason):
            return "\(file): unsupported PyTorch file: \(reason)"
        case .weightsNotFound(let path):
            return "\(path): VGG-19 weights not found; run `bash scripts/fetch-weights.sh` to download them (set STYLIZE_CACHE to use another cache folder)"
        case .missingLayers(let layers, let file):
            return "\(file): VGG-19 checkpoint lacks \(layers.count == 1 ? "layer" : "layers") \(layers.joined(separator: ", "))"
        case .shapeMismatch(let layer, let expected, let actual, let file):
            return "\(file): VGG-19 layer \(layer) has shape \(actual), expected \(expected)"
        case .unrecognizedWeights(let file, let reason):
            return "\(file): not a VGG-19 checkpoint: \(reason)"
        }
    }
}

// MARK: - Values

/// Element types of PyTorch tensors that the reader understands.
public enum TorchDType: String, Sendable, Hashable, CaseIterable {
    case float32, float64, float16, bfloat16, uint8, int8, int16, int32, int64, bool

    /// Bytes per element in the file.
    public var byteWidth: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .float16, .bfloat16, .int16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// True for float32/64, float16 and bfloat16.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// The dtype of a legacy typed storage class such as `FloatStorage` (the name inside module `torch`).
    init?(storageClass name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "DoubleStorage": self = .float64
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "ByteStorage": self = .uint8
        case "CharStorage": self = .int8
        case "ShortStorage": self = .int16
        case "IntStorage": self = .int32
        case "LongStorage": self = .int64
        case "BoolStorage": self = .bool
        default: return nil
        }
    }
}

/// A tensor read from a torch file: its dtype, shape and elements, always contiguous row-major.
///
/// Elements are kept as the file's little-endian bytes so that integer codes stay exact and
/// nothing is widened until asked for; `floatTensor()` gives the `StylizeTensor.Tensor`.
public struct TorchTensor: Sendable {
    public let dtype: TorchDType
    /// Sizes per dimension; `[]` for a 0-d (scalar) tensor.
    public let shape: [Int]
    /// `count × dtype.byteWidth` little-endian bytes, row-major.
    public let bytes: [UInt8]

    /// Number of elements (1 for a 0-d tensor).
    public var count: Int { shape.reduce(1, *) }

    /// Wraps already-contiguous little-endian bytes.
    public init(dtype: TorchDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative size in \(shape)")
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteWidth,
                     "\(dtype) tensor of shape \(shape) needs \(shape.reduce(1, *) * dtype.byteWidth) bytes, got \(bytes.count)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A float32 tensor holding a copy of `tensor` (handy for building state dicts in code).
    public init(_ tensor: Tensor) {
        let bytes = tensor.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
        self.init(dtype: .float32, shape: tensor.shape, bytes: bytes)
    }

    /// The elements converted to float32, as a `Tensor` of the same shape. Integers convert
    /// exactly up to 2²⁴; float64 rounds.
    public func floatTensor() -> Tensor {
        var t = Tensor(shape: shape, repeating: 0)
        t.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBytes { raw in
                let n = out.count
                switch dtype {
                case .float32:
                    #if _endian(little)
                    // Same bit layout as the file: one copy.
                    if n > 0 { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: 4 * n) }
                    #else
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                    #endif
                case .float64:
                    for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
                case .float16:
                    for i in 0..<n { out[i] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                case .bfloat16:
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
                case .uint8, .bool:
                    for i in 0..<n { out[i] = Float(raw[i]) }
                case .int8:
                    for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[i])) }
                case .int16:
                    for i in 0..<n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
                case .int32:
                    for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                case .int64:
                    for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
                }
            }
        }
        return t
    }

    /// The elements as float32, row-major.
    public func floats() -> [Float] { floatTensor().scalars }

    /// The elements as Double, row-major: exact for every dtype except int64 beyond ±2⁵³.
    public func doubles() -> [Double] {
        if let ints = integers() { return ints.map(Double.init) }
        if dtype == .float64 {
            return bytes.withUnsafeBytes { raw in
                (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
            }
        }
        return floats().map(Double.init)
    }

    /// The elements of an integer or bool tensor, exactly, widened to Int64; nil for floating dtypes.
    public func integers() -> [Int64]? {
        bytes.withUnsafeBytes { raw -> [Int64]? in
            let n = count
            switch dtype {
            case .float32, .float64, .float16, .bfloat16: return nil
            case .uint8, .bool: return raw.map { Int64($0) }
            case .int8: return raw.map { Int64(Int8(bitPattern: $0)) }
            case .int16: return (0..<n).map { Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
            case .int32: return (0..<n).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case .int64: return (0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            }
        }
    }
}

/// IEEE half → float by bit manipulation, so it does not depend on `Float16` being available.
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1f)
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0x1f {  // inf / nan
        return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    }
    if exponent == 0 {  // zero / subnormal: mantissa · 2⁻²⁴
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
}

/// A hashable dict key, as Python allows: None, bools, ints, floats, strings and tuples of those.
public enum TorchDictKey: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case tuple([TorchDictKey])

    public init(stringLiteral value: String) { self = .string(value) }

    /// The key as a value.
    public var value: TorchValue {
        switch self {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .tuple(let items): return .tuple(items.map(\.value))
        }
    }

    /// The string, for string keys.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let f): return String(f)
        case .string(let s): return "'\(s)'"
        case .tuple(let items): return "(" + items.map(\.description).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        }
    }
}

/// An insertion-ordered dict, like Python's `dict` and `OrderedDict`: assigning an existing key
/// replaces its value in place.
public struct TorchDict: Sendable {
    public private(set) var entries: [(key: TorchDictKey, value: TorchValue)] = []
    private var index: [TorchDictKey: Int] = [:]

    public init() {}

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Keys in insertion order.
    public var keys: [TorchDictKey] { entries.map(\.key) }

    public subscript(key: TorchDictKey) -> TorchValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let i = index[key] {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                    index = [:]
                    for (j, e) in entries.enumerated() { index[e.key] = j }
                }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    public subscript(key: String) -> TorchValue? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }
}

/// A value from a torch file: the subset of Python that checkpoints use.
public indirect enum TorchValue: Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case list([TorchValue])
    case tuple([TorchValue])
    /// dict or OrderedDict (attributes such as a state dict's `_metadata` are dropped).
    case dict(TorchDict)
    /// torch.Tensor or nn.Parameter.
    case tensor(TorchTensor)

    public var tensor: TorchTensor? { if case .tensor(let t) = self { return t } else { return nil } }
    public var dict: TorchDict? { if case .dict(let d) = self { return d } else { return nil } }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    public var double: Double? { if case .float(let f) = self { return f } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// Items of a list or a tuple.
    public var items: [TorchValue]? {
        switch self {
        case .list(let items), .tuple(let items): return items
        default: return nil
        }
    }

    /// `value[key]` for dicts; nil otherwise or when the key is absent.
    public subscript(key: String) -> TorchValue? { dict?[key] }

    /// A short type name for messages.
    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .tensor(let t): return "\(t.dtype) tensor \(t.shape)"
        }
    }
}

// MARK: - Reading

/// Reads files written by `torch.save`, without Python and without running anything.
///
/// Both layouts are understood: the zip archive of PyTorch ≥ 1.6 (`<name>/data.pkl` plus one
/// `<name>/data/<key>` record per storage) and the older stream (five pickles, then the storages'
/// raw bytes). The pickles go through a restricted unpickler that only builds tensors and plain
/// containers; any other Python global is refused with `.forbiddenGlobal`.
public enum TorchFile {
    /// Loads the object saved in the file at `path` (usually a state dict).
    public static func load(_ path: String) throws(TorchFileError) -> TorchValue {
        let bytes: [UInt8]
        do {
            bytes = try readRegularFile(path)
        } catch {
            throw .unreadable(file: path, reason: error.description)
        }
        return try load(bytes: bytes, name: path)
    }

    /// Loads the object saved in `bytes` (a whole file's contents); `name` stands for the file in
    /// errors.
    public static func load(bytes: [UInt8], name: String) throws(TorchFileError) -> TorchValue {
        if bytes.isEmpty { throw .truncated(file: name, reason: "the file is empty") }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return try ZipReader(bytes: bytes, file: name).load()
        }
        guard bytes[0] == 0x80 else {
            throw .notATorchFile(file: name, reason: "neither a zip archive nor a pickle stream")
        }
        return try LegacyReader(bytes: bytes, file: name).load()
    }
}

/// Limits that keep hostile files from making the reader allocate much more than their size.
enum TorchFileLimits {
    /// Materialised tensors may total this many bytes beyond twice the file's size: views that
    /// share or broadcast a storage legitimately copy data, but a 1 KB file must not become 10 GB.
    static let extraMaterialisedBytes = 64 << 20
    /// Deflate cannot expand more than ~1032:1; zip entries claiming more are corrupt.
    static let maxDeflateRatio = 1100
}

/// Turns tensor descriptions into contiguous tensors, checking every index against the storage.
struct Materialiser {
    let file: String
    /// Bytes of each storage, looked up by key (from the legacy stream or a zip record).
    let storageBytes: (StorageRef) throws(TorchFileError) -> ArraySlice<UInt8>
    var budget: Int

    init(file: String, fileLength: Int, storageBytes: @escaping (StorageRef) throws(TorchFileError) -> ArraySlice<UInt8>) {
        self.file = file
        self.storageBytes = storageBytes
        self.budget = 2 * fileLength + TorchFileLimits.extraMaterialisedBytes
    }

    mutating func tensor(_ spec: TensorSpec) throws(TorchFileError) -> TorchTensor {
        let width = spec.storage.dtype.byteWidth
        // Element count and byte size, overflow-checked (shapes come from the file).
        var count = 1
        for size in spec.shape {
            let (c, o) = count.multipliedReportingOverflow(by: size)
            guard !o else { throw .corrupt(file: file, reason: "tensor shape \(spec.shape) is too large") }
            count = c
        }
        let (byteCount, o) = count.multipliedReportingOverflow(by: width)
        guard !o, byteCount <= budget else {
            throw .corrupt(file: file, reason: "tensor of shape \(spec.shape) would need \(count) elements, more than the file can hold")
        }
        budget -= byteCount

        let storage = try storageBytes(spec.storage)
        let storageCount = storage.count / width
        if count > 0 {
            let last = try spec.lastIndex(file: file)
            guard last < storageCount else {
                throw .corrupt(file: file, reason: "tensor view (offset \(spec.offset), shape \(spec.shape), stride \(spec.strides)) reaches element \(last) of a storage with \(storageCount) elements")
            }
        }
        var out = [UInt8](repeating: 0, count: byteCount)
        if count > 0 {
            storage.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    gather(src: src, dst: dst, spec: spec, width: width, count: count)
                }
            }
        }
        return TorchTensor(dtype: spec.storage.dtype, shape: spec.shape, bytes: out)
    }

    /// Copies the view into `dst` in row-major order. Contiguous views are one memcpy; others
    /// walk an odometer over the outer dimensions and copy the innermost one in a tight loop.
    private func gather(src: UnsafeRawBufferPointer, dst: UnsafeMutableRawBufferPointer, spec: TensorSpec, width: Int, count: Int) {
        // Drop size-1 dimensions: their strides are irrelevant and often arbitrary.
        var sizes: [Int] = [], strides: [Int] = []
        for (s, st) in zip(spec.shape, spec.strides) where s != 1 {
            sizes.append(s)
            strides.append(st)
        }
        var contiguous = true
        var expected = 1
        for d in stride(from: sizes.count - 1, through: 0, by: -1) {
            if strides[d] != expected { contiguous = false; break }
            expected *= sizes[d]
        }
        if contiguous {
            dst.baseAddress!.copyMemory(from: src.baseAddress! + spec.offset * width, byteCount: count * width)
            return
        }
        let rank = sizes.count
        let inner = sizes[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var outPos = 0
        var base = spec.offset
        let s = src.baseAddress!, d = dst.baseAddress!
        while outPos < count {
            switch width {
            case 1:
                for i in 0..<inner { d.storeBytes(of: s.load(fromByteOffset: base + i * innerStride, as: UInt8.self), toByteOffset: outPos + i, as: UInt8.self) }
            case 2:
                for i in 0..<inner { d.storeBytes(of: s.loadUnaligned(fromByteOffset: 2 * (base + i * innerStride), as: UInt16.self), toByteOffset: 2 * (outPos + i), as: UInt16.self) }
            case 4:
                for i in 0..<inner { d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * (base + i * innerStride), as: UInt32.self), toByteOffset: 4 * (outPos + i), as: UInt32.self) }
            default:
                for i in 0..<inner { d.storeBytes(of: s.loadUnaligned(fromByteOffset: 8 * (base + i * innerStride), as: UInt64.self), toByteOffset: 8 * (outPos + i), as: UInt64.self) }
            }
            outPos += inner
            // Advance the odometer over the outer dimensions.
            var dim = rank - 2
            while dim >= 0 {
                index[dim] += 1
                base += strides[dim]
                if index[dim] < sizes[dim] { break }
                base -= strides[dim] * sizes[dim]
                index[dim] = 0
                dim -= 1
            }
        }
    }
}

extension TensorSpec {
    /// The largest storage index the view touches (for a non-empty view), overflow-checked.
    func lastIndex(file: String) throws(TorchFileError) -> Int {
        var last = offset
        for (size, stride) in zip(shape, strides) where size > 1 {
            let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, o2) = last.addingReportingOverflow(step)
            guard !o1, !o2 else { throw .corrupt(file: file, reason: "tensor view shape \(shape) stride \(strides) overflows") }
            last = sum
        }
        return last
    }
}

// MARK: Legacy stream

/// The pre-1.6 layout: magic-number pickle, protocol pickle, sys-info pickle, the object's pickle,
/// the storage-key list pickle, then each storage as an int64 element count and its raw bytes.
struct LegacyReader {
    /// 0x1950a86a20f9469cfc6c, as LONG1 stores it (little-endian two's complement).
    static let magic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    static let protocolVersion: Int64 = 1001

    let bytes: [UInt8]
    let file: String

    func load() throws(TorchFileError) -> TorchValue {
        var position = 0
        var unpickler = Unpickler(bytes: bytes, file: file)

        let magic = try unpickler.load(from: &position, storage: nil)
        guard case .bigInt(let digits) = magic, digits == Self.magic else {
            throw .notATorchFile(file: file, reason: "the first pickle is not PyTorch's magic number")
        }
        guard case .int(let version) = try unpickler.load(from: &position, storage: nil) else {
            throw .corrupt(file: file, reason: "the protocol-version pickle is not an int")
        }
        guard version == Self.protocolVersion else {
            throw .unsupported(file: file, reason: "legacy protocol version \(version) (only \(Self.protocolVersion) is known)")
        }
        let sysInfo = try unpickler.load(from: &position, storage: nil)
        if case .dict(let info) = sysInfo, let littleEndian = info.pairs.first(where: { $0.0.stringValue == "little_endian" })?.1,
           case .bool(false) = littleEndian {
            throw .unsupported(file: file, reason: "the file was written on a big-endian machine")
        }

        let main = try unpickler.load(from: &position, storage: .legacy)
        guard case .list(let keyList) = try unpickler.load(from: &position, storage: nil) else {
            throw .corrupt(file: file, reason: "the storage-key pickle is not a list")
        }

        // Each storage's bytes, located in the file; their element size comes from the main pickle.
        var located: [String: Range<Int>] = [:]
        for keyValue in keyList.items {
            guard let key = keyValue.stringValue else { throw .corrupt(file: file, reason: "a storage key is not a string") }
            guard let dtype = unpickler.storageTypes[key] else {
                throw .corrupt(file: file, reason: "storage '\(key)' is listed but not used by any tensor")
            }
            guard position <= bytes.count - 8 else {
                throw .truncated(file: file, reason: "the file ends before storage '\(key)' (at byte \(position))")
            }
            let count = bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: Int64.self)) }
            position += 8
            let (byteCount, overflow) = Int(truncatingIfNeeded: count).multipliedReportingOverflow(by: dtype.byteWidth)
            guard count >= 0, count <= Int64(Int.max), !overflow else {
                throw .corrupt(file: file, reason: "storage '\(key)' has an invalid element count \(count)")
            }
            guard byteCount <= bytes.count - position else {
                throw .truncated(file: file, reason: "storage '\(key)' needs \(byteCount) bytes at byte \(position), but the file has \(bytes.count - position) left")
            }
            located[key] = position..<(position + byteCount)
            position += byteCount
        }

        let file = self.file, bytes = self.bytes
        var materialiser = Materialiser(file: file, fileLength: bytes.count) { (ref: StorageRef) throws(TorchFileError) -> ArraySlice<UInt8> in
            guard let range = located[ref.key] else {
                throw .corrupt(file: file, reason: "storage '\(ref.key)' is used by a tensor but not listed among the stored keys")
            }
            let width = ref.dtype.byteWidth
            // Legacy views of a storage (view_metadata) select a sub-range of the root storage.
            guard let view = ref.view else { return bytes[range] }
            let (start, o1) = view.offset.multipliedReportingOverflow(by: width)
            let (length, o2) = view.count.multipliedReportingOverflow(by: width)
            guard !o1, !o2, start <= range.count, length <= range.count - start else {
                throw .corrupt(file: file, reason: "storage view of '\(ref.key)' (offset \(view.offset), size \(view.count)) is out of range")
            }
            return bytes[(range.lowerBound + start)..<(range.lowerBound + start + length)]
        }
        return try unpickler.resolve(main, materialiser: &materialiser)
    }
}

// MARK: Zip archive

/// The PyTorch ≥ 1.6 layout: a zip archive (records stored, not compressed) whose records all sit
/// under one folder whose name varies (`archive/`, the file's stem, …): `data.pkl`, `byteorder`,
/// `version` and one `data/<key>` record per storage.
///
/// The container is parsed here rather than by ZIPFoundation's `Archive`, which traps on some
/// corrupt central directories; every offset and size is checked against the file. Deflated
/// records (torch never writes them, re-zipped files may have them) are inflated with
/// ZIPFoundation's zlib binding.
struct ZipReader {
    let bytes: [UInt8]
    let file: String

    /// One file record: where its data starts, its sizes and compression.
    struct Record {
        var dataOffset: Int
        var storedSize: Int
        var size: Int
        var deflated: Bool
    }

    func load() throws(TorchFileError) -> TorchValue {
        let records = try centralDirectory()
        // The record folder: torch takes it from the first entry; fall back to any data.pkl.
        var prefix: String?
        if let first = records.first?.name, let slash = first.firstIndex(of: "/") {
            let candidate = String(first[...slash])
            if records.contains(where: { $0.name == candidate + "data.pkl" }) { prefix = candidate }
        }
        if prefix == nil, let path = records.map(\.name).sorted().first(where: { $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }) {
            prefix = String(path.dropLast("data.pkl".count))
        }
        var byName: [String: Record] = [:]
        for (name, record) in records { byName[name] = record }
        guard let prefix, let pickleRecord = byName[prefix + "data.pkl"] else {
            throw .notATorchFile(file: file, reason: "zip archive without a data.pkl record")
        }
        if let byteorder = byName[prefix + "byteorder"] {
            let order = String(decoding: try contents(of: byteorder, name: "byteorder"), as: UTF8.self)
            guard order.trimmingCharacters(in: .whitespacesAndNewlines) == "little" else {
                throw .unsupported(file: file, reason: "byte order '\(order)' (only little-endian files are read)")
            }
        }

        var unpickler = Unpickler(bytes: Array(try contents(of: pickleRecord, name: "data.pkl")), file: file)
        var position = 0
        let main = try unpickler.load(from: &position, storage: .zip)

        let file = self.file
        var materialiser = Materialiser(file: file, fileLength: bytes.count) { (ref: StorageRef) throws(TorchFileError) -> ArraySlice<UInt8> in
            guard let record = byName[prefix + "data/" + ref.key] else {
                throw .corrupt(file: file, reason: "storage record data/\(ref.key) is missing from the archive")
            }
            return try self.contents(of: record, name: "data/\(ref.key)")
        }
        return try unpickler.resolve(main, materialiser: &materialiser)
    }

    // MARK: Container

    private func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    private func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    private func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }

    /// `count` bytes at `offset` lie inside the file (overflow-safe).
    private func inside(_ offset: Int, _ count: Int) -> Bool {
        offset >= 0 && count >= 0 && offset <= bytes.count && count <= bytes.count - offset
    }

    /// A 64-bit size or offset from the file, accepted only if it fits inside the file.
    private func fileOffset(_ v: UInt64, _ what: String) throws(TorchFileError) -> Int {
        guard v <= UInt64(bytes.count) else {
            throw .truncated(file: file, reason: "zip \(what) (\(v)) lies beyond the end of the file (\(bytes.count) bytes)")
        }
        return Int(v)
    }

    /// The central directory's file records, in order: name and location of each.
    private func centralDirectory() throws(TorchFileError) -> [(name: String, record: Record)] {
        // End of central directory: 22 bytes plus a comment of up to 65 535 bytes, at the end.
        var eocd = -1
        var at = bytes.count - 22
        while at >= 0, at >= bytes.count - 22 - 0xffff {
            if u32(at) == 0x0605_4b50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0 else {
            throw .truncated(file: file, reason: "zip archive without an end-of-central-directory record")
        }
        var entryCount = u16(eocd + 10)
        var directorySize = u32(eocd + 12)
        var directoryOffset = u32(eocd + 16)
        // Zip64 (files over 4 GB or with many entries): the locator sits just before the record.
        if entryCount == 0xffff || directorySize == 0xffff_ffff || directoryOffset == 0xffff_ffff {
            let locator = eocd - 20
            guard locator >= 0, u32(locator) == 0x0706_4b50 else {
                throw .corrupt(file: file, reason: "zip64 archive without a zip64 locator")
            }
            let record = try fileOffset(u64(locator + 8), "zip64 record offset")
            guard inside(record, 56), u32(record) == 0x0606_4b50 else {
                throw .corrupt(file: file, reason: "zip64 end-of-central-directory record is missing")
            }
            entryCount = try fileOffset(u64(record + 32), "entry count")
            directorySize = try fileOffset(u64(record + 40), "central directory size")
            directoryOffset = try fileOffset(u64(record + 48), "central directory offset")
        }
        guard inside(directoryOffset, directorySize) else {
            throw .truncated(file: file, reason: "zip central directory (\(directorySize) bytes at \(directoryOffset)) lies beyond the end of the file")
        }

        var records: [(name: String, record: Record)] = []
        var p = directoryOffset
        let end = directoryOffset + directorySize
        for _ in 0..<entryCount {
            guard p <= end - 46, u32(p) == 0x0201_4b50 else {
                throw .corrupt(file: file, reason: "bad zip central directory entry at byte \(p)")
            }
            let flags = u16(p + 8), method = u16(p + 10)
            var storedSize = UInt64(u32(p + 20)), size = UInt64(u32(p + 24))
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var localOffset = UInt64(u32(p + 42))
            let nameStart = p + 46, extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= end else {
                throw .corrupt(file: file, reason: "zip central directory entry at byte \(p) overruns the directory")
            }
            let name = String(decoding: bytes[nameStart..<extraStart], as: UTF8.self)
            // Zip64 extra field: the 64-bit values replace those saturated at 0xffffffff, in order.
            var e = extraStart
            while e + 4 <= extraStart + extraLength {
                let id = u16(e), length = u16(e + 2)
                guard e + 4 + length <= extraStart + extraLength else { break }
                if id == 0x0001 {
                    var q = e + 4
                    for field in 0..<3 {
                        let saturated = field == 0 ? size == 0xffff_ffff : field == 1 ? storedSize == 0xffff_ffff : localOffset == 0xffff_ffff
                        guard saturated else { continue }
                        guard q + 8 <= e + 4 + length else {
                            throw .corrupt(file: file, reason: "short zip64 extra field for \(name)")
                        }
                        switch field {
                        case 0: size = u64(q)
                        case 1: storedSize = u64(q)
                        default: localOffset = u64(q)
                        }
                        q += 8
                    }
                }
                e += 4 + length
            }
            p = next
            if name.hasSuffix("/") { continue }  // a folder
            guard flags & 1 == 0 else {
                throw .unsupported(file: file, reason: "encrypted zip record \(name)")
            }
            guard method == 0 || method == 8 else {
                throw .unsupported(file: file, reason: "zip record \(name) uses compression method \(method)")
            }
            // The local header repeats the name and may carry a different extra field; the data follows it.
            let local = try fileOffset(localOffset, "offset of \(name)")
            guard inside(local, 30), u32(local) == 0x0403_4b50 else {
                throw .corrupt(file: file, reason: "zip record \(name) has no local header at byte \(local)")
            }
            let dataOffset = local + 30 + u16(local + 26) + u16(local + 28)
            let stored = try fileOffset(storedSize, "size of \(name)")
            guard inside(dataOffset, stored) else {
                throw .truncated(file: file, reason: "zip record \(name) (\(stored) bytes at \(dataOffset)) lies beyond the end of the file")
            }
            // Uncompressed sizes are bounded by what the stored bytes can produce, before any allocation.
            let limit = method == 8 ? UInt64(stored) * UInt64(TorchFileLimits.maxDeflateRatio) + 1024 : UInt64(stored)
            guard size <= limit else {
                throw .corrupt(file: file, reason: "zip record \(name) claims \(size) bytes, impossible for its \(stored) stored bytes")
            }
            records.append((name, Record(dataOffset: dataOffset, storedSize: stored, size: Int(size), deflated: method == 8)))
        }
        return records
    }

    /// A record's bytes: a slice of the file when stored, inflated otherwise.
    private func contents(of record: Record, name: String) throws(TorchFileError) -> ArraySlice<UInt8> {
        let stored = bytes[record.dataOffset..<(record.dataOffset + record.storedSize)]
        guard record.deflated else { return stored }
        var out: [UInt8] = []
        out.reserveCapacity(record.size)
        let chunk = 1 << 16
        do {
            _ = try Data.decompress(size: Int64(record.storedSize), bufferSize: chunk, skipCRC32: true, provider: { position, _ in
                // ZIPFoundation's Linux inflate tells zlib every chunk is full: pad the last one, and
                // stop a stream that never ends instead of feeding it forever.
                guard position < Int64(stored.count) else { throw InflateOverrun() }
                let start = stored.startIndex + Int(position)
                var data = Data(stored[start..<min(start + chunk, stored.endIndex)])
                if data.count < chunk { data.append(Data(count: chunk - data.count)) }
                return data
            }, consumer: { data in
                guard data.count <= record.size - out.count else { throw InflateOverrun() }
                out.append(contentsOf: data)
            })
        } catch {
            throw .corrupt(file: file, reason: "zip record \(name) does not inflate to its \(record.size) bytes")
        }
        guard out.count == record.size else {
            throw .corrupt(file: file, reason: "zip record \(name) inflates to \(out.count) bytes, not \(record.size)")
        }
        return out[...]
    }
}

private struct InflateOverrun: Error {}
