import Foundation
import StylizeTensor

/// Why a safetensors file could not be read or written; each case names the file.
public enum SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .malformed(path, reason): "\(path): not a valid safetensors file: \(reason)"
        case let .writeFailed(path, reason): "\(path): cannot write: \(reason)"
        }
    }
}

/// Named float32 tensors and string metadata in Hugging Face's safetensors format: an 8-byte
/// little-endian header length, a JSON header giving each tensor's dtype, shape and byte range,
/// then the raw little-endian data. Nothing in it is executed on load (unlike a pickle), and the
/// ecosystem (Python's `safetensors`, candle) reads it directly.
public struct SafeTensors: Sendable, Equatable {
    public var tensors: [String: Tensor]
    /// The header's `__metadata__`: string keys to string values.
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public static func == (a: SafeTensors, b: SafeTensors) -> Bool {
        a.metadata == b.metadata && a.tensors.keys == b.tensors.keys
            && a.tensors.allSatisfy { name, t in b.tensors[name].map { $0.shape == t.shape && $0.scalars == t.scalars } ?? false }
    }

    /// The file's bytes: tensors sorted by name, the header padded with spaces to 8 bytes.
    public func serialized() -> [UInt8] {
        var entries: [String: Any] = [:]
        if !metadata.isEmpty { entries["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            entries[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var header = Array((try? JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys])) ?? Data())
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { bytes += UnsafeRawBufferPointer($0) }
        }
        return bytes
    }

    /// Writes the file atomically: readers see the old file or the whole new one.
    public func write(to path: String) throws(SafeTensorsError) {
        do { try writeAtomically(serialized(), to: path) } catch {
            // The image layer's error already names the file; keep only its reason.
            if case let .writeFailed(_, reason) = error { throw .writeFailed(path: path, reason: reason) }
            throw .writeFailed(path: path, reason: "\(error)")
        }
    }

    /// Reads a safetensors file holding F32 tensors.
    public init(path: String) throws(SafeTensorsError) {
        let bytes: [UInt8]
        do { bytes = try readRegularFile(path) } catch { throw .unreadable(path: path, reason: "\(error)") }
        try self.init(bytes: bytes, name: path)
    }

    /// Parses a safetensors file's bytes; `name` is used in errors. Every length and offset is
    /// checked against the data before use.
    public init(bytes: [UInt8], name: String) throws(SafeTensorsError) {
        func fail(_ reason: String) -> SafeTensorsError { .malformed(path: name, reason: reason) }
        guard bytes.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let length = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(bytes.count - 8) else { throw fail("header length \(length) runs past the end of the file") }
        let dataStart = 8 + Int(length)
        let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        guard let header = json as? [String: Any] else { throw fail("the header is not a JSON object") }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        let dataCount = bytes.count - dataStart
        for (key, value) in header {
            if key == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ is not a map of strings") }
                metadata = m
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("entry '\(key)' lacks dtype, shape or data_offsets") }
            guard dtype == "F32" else { throw fail("'\(key)' is \(dtype); only F32 is read") }
            var count = 1
            for d in shape {
                guard d >= 0 else { throw fail("'\(key)' has a negative dimension") }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataCount / 4 else { throw fail("'\(key)' has shape \(shape), larger than the file") }
                count = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataCount, end - begin == 4 * count else {
                throw fail("'\(key)' has byte range \(offsets), which does not fit its shape \(shape) in \(dataCount) data bytes")
            }
            var t = Tensor(shape: shape)
            t.withUnsafeMutableBufferPointer { out in
                bytes.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(dataStart + begin)..<(dataStart + end)]))
                }
            }
            tensors[key] = t
        }
        self.init(tensors: tensors, metadata: metadata)
    }
}
