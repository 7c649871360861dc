import CDNNL

/// Thin ownership wrappers over oneDNN's C API: an engine with its stream, memory objects,
/// primitives. Layers in StylizeNN build on these; nothing here knows about networks.
///
/// `dnnlCheck` is for calls that fail only on a programming error (a malformed descriptor, since
/// inputs are validated before), so it stops with the library's status and context. Whether a
/// kernel exists depends on the CPU, so creating a primitive descriptor throws `DNNLError` instead.
@inline(__always)
public func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success {
        preconditionFailure("oneDNN: \(what()) failed with status \(status.rawValue)")
    }
}

/// oneDNN could not create a primitive: most often it has no kernel for the request on this CPU
/// (bf16 convolutions without AVX-512), or memory ran out.
public struct DNNLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being created ("conv1_1 backward", "pool", …).
    public let operation: String
    /// oneDNN's `dnnl_status_t` value.
    public let status: UInt32

    public init(operation: String, status: dnnl_status_t) {
        self.operation = operation
        self.status = status.rawValue
    }

    public var description: String {
        let reason: String
        switch dnnl_status_t(rawValue: status) {
        case dnnl_unimplemented: reason = "oneDNN has no kernel for it on this CPU (\(CPUCapabilities.current.isaName))"
        case dnnl_out_of_memory: reason = "out of memory"
        case dnnl_invalid_arguments: reason = "invalid arguments"
        default: reason = "oneDNN status \(status)"
        }
        return "cannot create \(operation): \(reason)"
    }
}

/// The CPU engine and an in-order stream. oneDNN runs its kernels on OpenMP threads (all cores
/// unless OMP_NUM_THREADS says otherwise).
public final class DNNLContext: @unchecked Sendable {
    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t

    public init() {
        var e: dnnl_engine_t?
        dnnlCheck(dnnl_engine_create(&e, dnnl_cpu, 0), "engine creation")
        engine = e!
        var s: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&s, engine, UInt32(dnnl_stream_default_flags.rawValue)), "stream creation")
        stream = s!
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Runs one primitive and waits for it.
    public func execute(_ primitive: DNNLPrimitive, _ args: [(Int32, DNNLMemory)]) {
        var cArgs = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        dnnlCheck(dnnl_primitive_execute(primitive.handle, stream, Int32(cArgs.count), &cArgs), "execute \(primitive.name)")
        dnnlCheck(dnnl_stream_wait(stream), "stream wait")
    }
}

/// Memory descriptors: shape, data type and layout.
public enum DNNLDesc {
    /// A descriptor with a fixed layout tag (`dnnl_nchw`, `dnnl_oihw`, `dnnl_x`, …) or
    /// `dnnl_format_tag_any` to let a primitive choose.
    public static func make(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = Self.dims(dims)
        dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), d, type, tag), "memory descriptor \(dims)")
        return md
    }

    /// A plain descriptor with explicit strides (in elements), e.g. padded rows.
    public static func make(_ dims: [Int], strides: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_strides(&md, Int32(dims.count), Self.dims(dims), type, Self.dims(strides)),
                  "memory descriptor \(dims) strides \(strides)")
        return md
    }

    public static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    public static func size(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md)
    }

    /// A `dnnl_dims_t` argument (strides, paddings, shapes) from a Swift array: C sees a pointer to
    /// DNNL_MAX_NDIMS values.
    public static func dims(_ values: [Int]) -> [dnnl_dim_t] {
        precondition(values.count <= Int(DNNL_MAX_NDIMS), "too many dimensions")
        return values.map { dnnl_dim_t($0) } + Array(repeating: 0, count: Int(DNNL_MAX_NDIMS) - values.count)
    }
}

/// A 64-byte-aligned, zeroed byte buffer that several memory objects may view in turn (buffers
/// reused between layers keep peak memory down).
public final class DNNLBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
    }

    deinit { pointer.deallocate() }
}

/// A oneDNN memory object over a buffer it owns, a shared `DNNLBuffer`, or a `Tensor`'s storage.
public final class DNNLMemory: @unchecked Sendable {
    public let handle: dnnl_memory_t
    public let desc: dnnl_memory_desc_t
    public let byteCount: Int
    public let pointer: UnsafeMutableRawPointer
    /// Whatever owns `pointer`, kept alive as long as this memory object.
    private let owner: AnyObject

    /// Allocates a zeroed buffer for `desc`.
    public convenience init(_ desc: dnnl_memory_desc_t, _ context: DNNLContext) {
        self.init(desc, sharing: DNNLBuffer(byteCount: DNNLDesc.size(desc)), context)
    }

    /// Views `buffer` (at least `desc`'s size past `offset`, a multiple of 64) under `desc`.
    public init(_ desc: dnnl_memory_desc_t, sharing buffer: DNNLBuffer, offset: Int = 0, _ context: DNNLContext) {
        self.desc = desc
        byteCount = DNNLDesc.size(desc)
        precondition(offset % 64 == 0 && offset + byteCount <= buffer.byteCount, "buffer too small for its descriptor")
        pointer = buffer.pointer + offset
        owner = buffer
        var d = desc
        var h: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&h, &d, context.engine, pointer), "memory creation")
        handle = h!
    }

    /// Wraps a plain float32 tensor's storage (which the memory keeps alive) under `desc`.
    public init(wrapping storage: TensorStorage, _ desc: dnnl_memory_desc_t, _ context: DNNLContext) {
        self.desc = desc
        byteCount = DNNLDesc.size(desc)
        precondition(byteCount <= storage.count * MemoryLayout<Float>.stride, "tensor too small for its descriptor")
        pointer = UnsafeMutableRawPointer(storage.pointer)
        owner = storage
        var d = desc
        var h: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&h, &d, context.engine, pointer), "memory creation")
        handle = h!
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// A created primitive, and the descriptor it was made from (for queries).
public final class DNNLPrimitive: @unchecked Sendable {
    public let handle: dnnl_primitive_t
    public let pd: dnnl_primitive_desc_t
    public let name: String

    /// Takes ownership of `pd`.
    public init(pd: dnnl_primitive_desc_t, name: String) {
        self.pd = pd
        self.name = name
        var p: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&p, pd), "primitive creation for \(name)")
        handle = p!
    }

    /// The descriptor of one of the primitive's arguments (`dnnl_query_src_md`, …).
    public func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, index).pointee
    }

    /// oneDNN's name for the implementation it picked (e.g. "jit:avx512_core"), for diagnostics.
    public var implementation: String {
        var s: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s)
        return s.map { String(cString: $0) } ?? "?"
    }

    deinit {
        dnnl_primitive_destroy(handle)
        dnnl_primitive_desc_destroy(pd)
    }
}

/// Primitive attributes: post-ops (fused ReLU, accumulate into the destination).
public final class DNNLAttributes {
    public let handle: dnnl_primitive_attr_t

    public init(relu: Bool = false, sum: Bool = false) {
        var a: dnnl_primitive_attr_t?
        dnnlCheck(dnnl_primitive_attr_create(&a), "attribute creation")
        handle = a!
        if relu || sum {
            var po: dnnl_post_ops_t?
            dnnlCheck(dnnl_post_ops_create(&po), "post-ops creation")
            if sum { dnnlCheck(dnnl_post_ops_append_sum(po, 1), "sum post-op") }
            if relu { dnnlCheck(dnnl_post_ops_append_eltwise(po, 1, dnnl_eltwise_relu, 0, 0), "relu post-op") }
            dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, po), "set post-ops")
            dnnl_post_ops_destroy(po)
        }
    }

    deinit { dnnl_primitive_attr_destroy(handle) }
}

extension DNNLContext {
    /// A reorder (layout conversion) from `src` to `dst`; with `accumulate`, adds into `dst`.
    public func reorder(from src: dnnl_memory_desc_t, to dst: dnnl_memory_desc_t, accumulate: Bool = false) -> DNNLPrimitive {
        var s = src, d = dst
        let attr = DNNLAttributes(sum: accumulate)
        var pd: dnnl_primitive_desc_t?
        dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &s, engine, &d, engine, attr.handle), "reorder descriptor")
        return DNNLPrimitive(pd: pd!, name: accumulate ? "reorder+sum" : "reorder")
    }

    /// Creates a primitive descriptor for an operation descriptor (conv, pooling, eltwise …);
    /// throws when oneDNN has no implementation for it here.
    public func primitiveDesc<Op>(_ op: inout Op, attributes: DNNLAttributes? = nil, hint: DNNLPrimitive? = nil,
                                  name: String) throws(DNNLError) -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        let attr = attributes ?? DNNLAttributes()
        let status = withUnsafePointer(to: &op) { opPtr in
            dnnl_primitive_desc_create(&pd, UnsafeRawPointer(opPtr),
                                       attr.handle, engine, hint?.pd)
        }
        guard status == dnnl_success, let pd else { throw DNNLError(operation: name, status: status) }
        return pd
    }
}
