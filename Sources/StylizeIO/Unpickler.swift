// A restricted unpickler for the pickles inside `torch.save` files.
//
// Python's pickle is a little stack machine whose REDUCE opcode calls any importable function,
// which is why loading untrusted checkpoints with `torch.load(weights_only=False)` runs code.
// This one interprets the opcodes that torch emits (protocols 2–5) but resolves GLOBAL only to a
// fixed allow-list of tensor rebuilders, storage classes and OrderedDict, and "calls" them by
// building descriptions in Swift. Nothing from the file is ever executed.
//
// Every read is bounds-checked against the pickle's bytes, and sizes come from the file only
// after being checked against what is left of it, so corrupt input ends in a `TorchFileError`.

/// A storage referenced by a persistent id: where its bytes live and how to read them.
struct StorageRef {
    /// Zip record name under `data/`, or the legacy stream's storage key.
    var key: String
    var dtype: TorchDType
    /// Element count the pickle declares for the (root) storage.
    var count: Int
    /// Legacy `view_metadata`: a slice (element offset, element count) of the root storage.
    var view: (offset: Int, count: Int)?
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view into a storage (in elements).
struct TensorSpec {
    var storage: StorageRef
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// Which persistent-id layout the pickle uses (they differ between the two file formats).
enum StorageLayout {
    /// `('storage', StorageClass, key, location, numel)`
    case zip
    /// `('storage', StorageClass, root_key, location, numel, view_metadata)`
    case legacy
}

/// The only Python globals a pickle may name.
enum AllowedGlobal {
    case orderedDict
    case rebuildTensorV2
    case rebuildTensor
    case rebuildParameter
    case rebuildParameterWithState
    case storageClass(TorchDType)

    init(module: String, name: String, file: String) throws(TorchFileError) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        default:
            if module == "torch", let dtype = TorchDType(storageClass: name) {
                self = .storageClass(dtype)
            } else {
                throw .forbiddenGlobal(printable(module + "." + name), file: file)
            }
        }
    }
}

/// Names from a hostile file go into one-line messages: no control characters, bounded length.
private func printable(_ s: String) -> String {
    let cleaned = String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    return cleaned.count > 200 ? String(cleaned.prefix(200)) + "…" : cleaned
}

/// Mutable Python containers are reference types, as in Python: a memoized list that is later
/// appended to must be the same object wherever it was referenced.
class PContainer {
    func clear() {}
}

final class PList: PContainer {
    var items: [PValue] = []
    override func clear() { items = [] }
}

final class PTuple: PContainer {
    var items: [PValue]
    init(_ items: [PValue]) { self.items = items }
    override func clear() { items = [] }
}

final class PDict: PContainer {
    var pairs: [(PValue, PValue)] = []
    override func clear() { pairs = [] }
}

/// A value on the unpickler's stack.
enum PValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits, as little-endian two's-complement bytes (the legacy magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case list(PList)
    case tuple(PTuple)
    case dict(PDict)
    case global(AllowedGlobal)
    case storage(StorageRef)
    case tensor(TensorSpec)

    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .global: return "class or function"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// Owns every container built while unpickling and empties them all when done. That breaks
/// reference cycles a malicious pickle can build (a list appended to itself) and keeps release
/// from recursing through a deeply nested chain, which could overflow the stack.
private final class ContainerRegistry {
    var containers: [PContainer] = []
    deinit { for c in containers { c.clear() } }
}

/// Bounds-checked reading of the pickle's bytes.
private struct Cursor {
    let bytes: [UInt8]
    var position: Int
    let file: String

    var remaining: Int { bytes.count - position }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws(TorchFileError) {
        guard n >= 0, n <= remaining else {
            throw .truncated(file: file, reason: "the pickle ends inside \(what()) at byte \(position)")
        }
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(TorchFileError) -> UInt8 {
        try need(1, what())
        defer { position += 1 }
        return bytes[position]
    }

    /// A little-endian unsigned integer of `width` bytes.
    mutating func unsigned(_ width: Int, _ what: @autoclosure () -> String) throws(TorchFileError) -> UInt64 {
        try need(width, what())
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += width
        return v
    }

    /// A length prefix of `width` bytes, checked against what is left before anything is allocated.
    mutating func length(_ width: Int, _ what: @autoclosure () -> String) throws(TorchFileError) -> Int {
        let n = try unsigned(width, what())
        guard n <= UInt64(remaining) else {
            throw .truncated(file: file, reason: "\(what()) at byte \(position) claims \(n) bytes but \(remaining) are left")
        }
        return Int(n)
    }

    mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws(TorchFileError) -> ArraySlice<UInt8> {
        try need(n, what())
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    /// A newline-terminated text argument (GLOBAL's module and name).
    mutating func line(_ what: @autoclosure () -> String) throws(TorchFileError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0a) else {
            throw .truncated(file: file, reason: "the pickle ends inside \(what()) at byte \(position)")
        }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }
}

/// Interprets the pickles of one torch file. Create one per file: the storage types it records
/// are needed to read the legacy format's raw storages.
struct Unpickler {
    let bytes: [UInt8]
    let file: String
    /// dtype of every storage key referenced by a persistent id.
    private(set) var storageTypes: [String: TorchDType] = [:]
    private let registry = ContainerRegistry()

    /// Deeper nesting than this is refused; real checkpoints nest a handful of levels.
    static let maxDepth = 200

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    // MARK: Running the opcodes

    /// Runs one pickle starting at `position` up to its STOP, leaving `position` just after it.
    /// `storage` says how to read persistent ids; nil means the pickle may not contain any.
    mutating func load(from position: inout Int, storage layout: StorageLayout?) throws(TorchFileError) -> PValue {
        var cursor = Cursor(bytes: bytes, position: position, file: file)
        var stack: [PValue] = []
        var marks: [Int] = []
        var memo: [Int: PValue] = [:]
        let file = self.file

        func pop(_ op: String) throws(TorchFileError) -> PValue {
            guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else {
                throw .corrupt(file: file, reason: "\(op) on an empty stack at byte \(cursor.position)")
            }
            return v
        }
        func top(_ op: String) throws(TorchFileError) -> PValue {
            guard let v = stack.last, stack.count > (marks.last ?? 0) else {
                throw .corrupt(file: file, reason: "\(op) on an empty stack at byte \(cursor.position)")
            }
            return v
        }
        func popMark(_ op: String) throws(TorchFileError) -> [PValue] {
            guard let mark = marks.popLast() else {
                throw .corrupt(file: file, reason: "\(op) without a MARK at byte \(cursor.position)")
            }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[mark...])
        }
        func memoGet(_ index: Int) throws(TorchFileError) -> PValue {
            guard let v = memo[index] else {
                throw .corrupt(file: file, reason: "memo entry \(index) is read before it is written (byte \(cursor.position))")
            }
            return v
        }

        while true {
            let opPosition = cursor.position
            let op = try cursor.u8("an opcode")
            switch op {
            case 0x80:  // PROTO
                let version = try cursor.u8("PROTO")
                guard version <= 5 else {
                    throw .unsupported(file: file, reason: "pickle protocol \(version)")
                }
            case 0x95:  // FRAME: a length hint for buffered readers; the data follows inline.
                _ = try cursor.unsigned(8, "FRAME")
            case 0x2e:  // STOP
                guard let result = stack.popLast() else {
                    throw .corrupt(file: file, reason: "STOP on an empty stack at byte \(opPosition)")
                }
                position = cursor.position
                return result

            case 0x28:  // MARK
                marks.append(stack.count)
            case 0x30:  // POP
                _ = try pop("POP")
            case 0x31:  // POP_MARK
                _ = try popMark("POP_MARK")
            case 0x32:  // DUP
                stack.append(try top("DUP"))

            case 0x7d:  // EMPTY_DICT
                stack.append(.dict(newDict()))
            case 0x5d:  // EMPTY_LIST
                stack.append(.list(newList([])))
            case 0x29:  // EMPTY_TUPLE
                stack.append(.tuple(newTuple([])))
            case 0x64:  // DICT
                let items = try popMark("DICT")
                let dict = newDict()
                try addPairs(items, to: dict, op: "DICT")
                stack.append(.dict(dict))
            case 0x6c:  // LIST
                stack.append(.list(newList(try popMark("LIST"))))
            case 0x74:  // TUPLE
                stack.append(.tuple(newTuple(try popMark("TUPLE"))))
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                let n = Int(op - 0x84)
                var items: [PValue] = []
                for _ in 0..<n { items.append(try pop("TUPLE\(n)")) }
                stack.append(.tuple(newTuple(items.reversed())))

            case 0x58:  // BINUNICODE
                let n = try cursor.length(4, "BINUNICODE")
                stack.append(.string(String(decoding: try cursor.take(n, "BINUNICODE"), as: UTF8.self)))
            case 0x8c:  // SHORT_BINUNICODE
                let n = try cursor.length(1, "SHORT_BINUNICODE")
                stack.append(.string(String(decoding: try cursor.take(n, "SHORT_BINUNICODE"), as: UTF8.self)))
            case 0x8d:  // BINUNICODE8
                let n = try cursor.length(8, "BINUNICODE8")
                stack.append(.string(String(decoding: try cursor.take(n, "BINUNICODE8"), as: UTF8.self)))
            case 0x54:  // BINSTRING (Python 2 str; torch decodes these as UTF-8 text)
                let n = try cursor.length(4, "BINSTRING")
                stack.append(.string(String(decoding: try cursor.take(n, "BINSTRING"), as: UTF8.self)))
            case 0x55:  // SHORT_BINSTRING
                let n = try cursor.length(1, "SHORT_BINSTRING")
                stack.append(.string(String(decoding: try cursor.take(n, "SHORT_BINSTRING"), as: UTF8.self)))

            case 0x4a:  // BININT: signed 32-bit
                stack.append(.int(Int64(Int32(truncatingIfNeeded: try cursor.unsigned(4, "BININT")))))
            case 0x4b:  // BININT1
                stack.append(.int(Int64(try cursor.unsigned(1, "BININT1"))))
            case 0x4d:  // BININT2
                stack.append(.int(Int64(try cursor.unsigned(2, "BININT2"))))
            case 0x8a:  // LONG1
                let n = try cursor.length(1, "LONG1")
                stack.append(Self.long(try cursor.take(n, "LONG1")))
            case 0x8b:  // LONG4
                let n = try cursor.length(4, "LONG4")
                stack.append(Self.long(try cursor.take(n, "LONG4")))
            case 0x47:  // BINFLOAT: big-endian double
                let raw = try cursor.unsigned(8, "BINFLOAT")
                stack.append(.float(Double(bitPattern: raw.byteSwapped)))
            case 0x4e:  // NONE
                stack.append(.none)
            case 0x88:  // NEWTRUE
                stack.append(.bool(true))
            case 0x89:  // NEWFALSE
                stack.append(.bool(false))

            case 0x61:  // APPEND
                let value = try pop("APPEND")
                guard case .list(let list) = try top("APPEND") else {
                    throw .corrupt(file: file, reason: "APPEND to a non-list at byte \(opPosition)")
                }
                list.items.append(value)
            case 0x65:  // APPENDS
                let items = try popMark("APPENDS")
                guard case .list(let list) = try top("APPENDS") else {
                    throw .corrupt(file: file, reason: "APPENDS to a non-list at byte \(opPosition)")
                }
                list.items.append(contentsOf: items)
            case 0x73:  // SETITEM
                let value = try pop("SETITEM"), key = try pop("SETITEM")
                guard case .dict(let dict) = try top("SETITEM") else {
                    throw .corrupt(file: file, reason: "SETITEM on a non-dict at byte \(opPosition)")
                }
                dict.pairs.append((key, value))
            case 0x75:  // SETITEMS
                let items = try popMark("SETITEMS")
                guard case .dict(let dict) = try top("SETITEMS") else {
                    throw .corrupt(file: file, reason: "SETITEMS on a non-dict at byte \(opPosition)")
                }
                try addPairs(items, to: dict, op: "SETITEMS")

            case 0x71:  // BINPUT
                memo[Int(try cursor.unsigned(1, "BINPUT"))] = try top("BINPUT")
            case 0x72:  // LONG_BINPUT
                memo[Int(try cursor.unsigned(4, "LONG_BINPUT"))] = try top("LONG_BINPUT")
            case 0x94:  // MEMOIZE
                memo[memo.count] = try top("MEMOIZE")
            case 0x68:  // BINGET
                stack.append(try memoGet(Int(try cursor.unsigned(1, "BINGET"))))
            case 0x6a:  // LONG_BINGET
                stack.append(try memoGet(Int(try cursor.unsigned(4, "LONG_BINGET"))))

            case 0x63:  // GLOBAL: module and name as text lines; checked before anything else.
                let module = try cursor.line("GLOBAL")
                let name = try cursor.line("GLOBAL")
                stack.append(.global(try AllowedGlobal(module: module, name: name, file: file)))
            case 0x93:  // STACK_GLOBAL
                let name = try pop("STACK_GLOBAL"), module = try pop("STACK_GLOBAL")
                guard let m = module.stringValue, let n = name.stringValue else {
                    throw .corrupt(file: file, reason: "STACK_GLOBAL with non-string operands at byte \(opPosition)")
                }
                stack.append(.global(try AllowedGlobal(module: m, name: n, file: file)))
            case 0x52:  // REDUCE: callable(*args), for allowed callables only.
                let args = try pop("REDUCE"), callable = try pop("REDUCE")
                guard case .tuple(let tuple) = args else {
                    throw .corrupt(file: file, reason: "REDUCE with non-tuple arguments at byte \(opPosition)")
                }
                stack.append(try reduce(callable, tuple.items, at: opPosition))
            case 0x81:  // NEWOBJ: cls.__new__(cls, *args); only OrderedDict() makes sense here.
                let args = try pop("NEWOBJ"), cls = try pop("NEWOBJ")
                guard case .global(.orderedDict) = cls, case .tuple(let tuple) = args, tuple.items.isEmpty else {
                    throw .corrupt(file: file, reason: "NEWOBJ of a \(cls.kindName) at byte \(opPosition)")
                }
                stack.append(.dict(newDict()))
            case 0x62:  // BUILD: sets instance state. A state dict's `_metadata` attribute and
                        // tensor/parameter state carry no data we need, so they are dropped.
                _ = try pop("BUILD")
                switch try top("BUILD") {
                case .dict, .tensor: break
                case let other:
                    throw .corrupt(file: file, reason: "BUILD on a \(other.kindName) at byte \(opPosition)")
                }
            case 0x51:  // BINPERSID: torch's reference to a storage.
                let pid = try pop("BINPERSID")
                guard let layout else {
                    throw .corrupt(file: file, reason: "a storage reference outside the main pickle (byte \(opPosition))")
                }
                stack.append(.storage(try persistentLoad(pid, layout: layout, at: opPosition)))

            default:
                throw .unsupported(file: file, reason: "pickle opcode 0x\(String(op, radix: 16)) at byte \(opPosition)")
            }
        }
    }

    private func newList(_ items: [PValue]) -> PList {
        let list = PList()
        list.items = items
        registry.containers.append(list)
        return list
    }

    private func newTuple(_ items: [PValue]) -> PTuple {
        let tuple = PTuple(items)
        registry.containers.append(tuple)
        return tuple
    }

    private func newDict() -> PDict {
        let dict = PDict()
        registry.containers.append(dict)
        return dict
    }

    private func addPairs(_ items: [PValue], to dict: PDict, op: String) throws(TorchFileError) {
        guard items.count % 2 == 0 else {
            throw .corrupt(file: file, reason: "\(op) with an odd number of items")
        }
        for i in stride(from: 0, to: items.count, by: 2) { dict.pairs.append((items[i], items[i + 1])) }
    }

    /// LONG1/LONG4 payloads: little-endian two's complement of any width.
    private static func long(_ digits: ArraySlice<UInt8>) -> PValue {
        if digits.isEmpty { return .int(0) }
        guard digits.count <= 8 else { return .bigInt(Array(digits)) }
        var v: UInt64 = 0
        for (i, b) in digits.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        let bits = 8 * digits.count
        if bits < 64, digits.last! & 0x80 != 0 { v |= ~0 << UInt64(bits) }  // sign-extend
        return .int(Int64(bitPattern: v))
    }

    // MARK: The allowed callables

    private mutating func reduce(_ callable: PValue, _ args: [PValue], at offset: Int) throws(TorchFileError) -> PValue {
        guard case .global(let function) = callable else {
            throw .corrupt(file: file, reason: "REDUCE calls a \(callable.kindName) at byte \(offset)")
        }
        switch function {
        case .orderedDict:
            guard args.isEmpty else {
                throw .unsupported(file: file, reason: "OrderedDict built from arguments at byte \(offset)")
            }
            return .dict(newDict())
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count == 6 || args.count == 7 else {
                throw .corrupt(file: file, reason: "_rebuild_tensor_v2 with \(args.count) arguments at byte \(offset)")
            }
            return .tensor(try tensorSpec(args[0], args[1], args[2], args[3], at: offset))
        case .rebuildTensor:
            // (storage, storage_offset, size, stride)
            guard args.count == 4 else {
                throw .corrupt(file: file, reason: "_rebuild_tensor with \(args.count) arguments at byte \(offset)")
            }
            return .tensor(try tensorSpec(args[0], args[1], args[2], args[3], at: offset))
        case .rebuildParameter, .rebuildParameterWithState:
            // (data, requires_grad, backward_hooks[, state]): a Parameter is its tensor.
            guard args.count >= 3, args.count <= 4, case .tensor = args[0] else {
                throw .corrupt(file: file, reason: "_rebuild_parameter with unexpected arguments at byte \(offset)")
            }
            return args[0]
        case .storageClass(let dtype):
            throw .unsupported(file: file, reason: "constructing a \(dtype) storage directly at byte \(offset)")
        }
    }

    private func tensorSpec(_ storage: PValue, _ offset: PValue, _ size: PValue, _ stride: PValue, at position: Int) throws(TorchFileError) -> TensorSpec {
        guard case .storage(let ref) = storage else {
            throw .corrupt(file: file, reason: "tensor rebuilt from a \(storage.kindName), not a storage, at byte \(position)")
        }
        guard case .int(let start) = offset, start >= 0, start <= Int64(Int.max) else {
            throw .corrupt(file: file, reason: "invalid tensor storage offset at byte \(position)")
        }
        let shape = try intTuple(size, "size", at: position)
        let strides = try intTuple(stride, "stride", at: position)
        guard shape.count == strides.count else {
            throw .corrupt(file: file, reason: "tensor size \(shape) and stride \(strides) differ in rank at byte \(position)")
        }
        let spec = TensorSpec(storage: ref, offset: Int(start), shape: shape, strides: strides)
        // Early check against the declared storage size; the materialiser checks the real bytes.
        if !shape.contains(0) {
            let last = try spec.lastIndex(file: file)
            let available = ref.view?.count ?? ref.count
            guard last < available else {
                throw .corrupt(file: file, reason: "tensor (offset \(start), size \(shape), stride \(strides)) reaches past its \(available)-element storage '\(ref.key)'")
            }
        }
        return spec
    }

    private func intTuple(_ value: PValue, _ what: String, at position: Int) throws(TorchFileError) -> [Int] {
        guard case .tuple(let tuple) = value else {
            throw .corrupt(file: file, reason: "tensor \(what) is a \(value.kindName), not a tuple, at byte \(position)")
        }
        var out: [Int] = []
        for item in tuple.items {
            guard case .int(let v) = item, v >= 0 else {
                throw .corrupt(file: file, reason: "invalid tensor \(what) entry at byte \(position)")
            }
            out.append(Int(v))
        }
        return out
    }

    /// Decodes torch's persistent id for a storage; anything else (e.g. a pickled module's source) is refused.
    private mutating func persistentLoad(_ pid: PValue, layout: StorageLayout, at offset: Int) throws(TorchFileError) -> StorageRef {
        guard case .tuple(let tuple) = pid, let typename = tuple.items.first?.stringValue else {
            throw .corrupt(file: file, reason: "persistent id is not a tuple at byte \(offset)")
        }
        guard typename == "storage" else {
            throw .unsupported(file: file, reason: "persistent id of type '\(printable(typename))' (pickled modules are not supported; save a state_dict)")
        }
        let items = tuple.items
        let expected = layout == .zip ? 5 : 6
        guard items.count == expected else {
            throw .corrupt(file: file, reason: "storage persistent id with \(items.count) fields at byte \(offset)")
        }
        guard case .global(.storageClass(let dtype)) = items[1] else {
            throw .corrupt(file: file, reason: "storage persistent id without a storage class at byte \(offset)")
        }
        guard let key = items[2].stringValue else {
            throw .corrupt(file: file, reason: "storage key is not a string at byte \(offset)")
        }
        guard case .int(let count) = items[4], count >= 0, count <= Int64(Int.max / 8) else {
            throw .corrupt(file: file, reason: "invalid element count for storage '\(printable(key))' at byte \(offset)")
        }
        if let known = storageTypes[key], known != dtype {
            throw .corrupt(file: file, reason: "storage '\(printable(key))' is used as both \(known) and \(dtype)")
        }
        storageTypes[key] = dtype
        var ref = StorageRef(key: key, dtype: dtype, count: Int(count), view: nil)
        if layout == .legacy {
            switch items[5] {
            case .none: break
            case .tuple(let view):
                // (view_key, offset, view_size), in elements of the root storage.
                guard view.items.count == 3, case .int(let start) = view.items[1], case .int(let size) = view.items[2],
                      start >= 0, size >= 0, start <= count, size <= count - start else {
                    throw .corrupt(file: file, reason: "invalid storage view of '\(printable(key))' at byte \(offset)")
                }
                ref.view = (Int(start), Int(size))
            default:
                throw .corrupt(file: file, reason: "invalid storage view metadata at byte \(offset)")
            }
        }
        return ref
    }

    // MARK: From stack values to public values

    /// Converts an unpickled value to a `TorchValue`, materialising tensors.
    mutating func resolve(_ value: PValue, materialiser: inout Materialiser) throws(TorchFileError) -> TorchValue {
        // Shared references (memo) can make a small pickle describe an exponentially large
        // tree; bound the work by the pickle's size.
        var budget = 16 * bytes.count + 1024
        return try resolve(value, &materialiser, depth: 0, budget: &budget)
    }

    private func resolve(_ value: PValue, _ materialiser: inout Materialiser, depth: Int, budget: inout Int) throws(TorchFileError) -> TorchValue {
        guard depth < Self.maxDepth else {
            throw .corrupt(file: file, reason: "values nested more than \(Self.maxDepth) levels deep (or a reference cycle)")
        }
        budget -= 1
        guard budget >= 0 else {
            throw .corrupt(file: file, reason: "the pickle expands to far more values than it holds")
        }
        switch value {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .bigInt: throw .unsupported(file: file, reason: "an integer wider than 64 bits")
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .list(let list):
            var items: [TorchValue] = []
            for item in list.items { items.append(try resolve(item, &materialiser, depth: depth + 1, budget: &budget)) }
            return .list(items)
        case .tuple(let tuple):
            var items: [TorchValue] = []
            for item in tuple.items { items.append(try resolve(item, &materialiser, depth: depth + 1, budget: &budget)) }
            return .tuple(items)
        case .dict(let dict):
            var out = TorchDict()
            for (k, v) in dict.pairs {
                let key = try dictKey(k, depth: depth + 1)
                out[key] = try resolve(v, &materialiser, depth: depth + 1, budget: &budget)
            }
            return .dict(out)
        case .tensor(let spec):
            return .tensor(try materialiser.tensor(spec))
        case .storage:
            throw .unsupported(file: file, reason: "a bare storage object outside a tensor")
        case .global:
            throw .unsupported(file: file, reason: "a bare Python class or function as a value")
        }
    }

    private func dictKey(_ value: PValue, depth: Int) throws(TorchFileError) -> TorchDictKey {
        guard depth < Self.maxDepth else {
            throw .corrupt(file: file, reason: "dict key nested more than \(Self.maxDepth) levels deep")
        }
        switch value {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .tuple(let tuple):
            var items: [TorchDictKey] = []
            for item in tuple.items { items.append(try dictKey(item, depth: depth + 1)) }
            return .tuple(items)
        default:
            throw .unsupported(file: file, reason: "a dict key of type \(value.kindName)")
        }
    }
}
