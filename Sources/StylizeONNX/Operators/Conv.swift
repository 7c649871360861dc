import CDNNL
import StylizeTensor

/// Conv and ConvTranspose (2-D, NCHW) on oneDNN.
///
/// Activations stay plain NCHW between nodes (the executor's other kernels read them directly);
/// each convolution lets oneDNN pick its fastest layouts and reorders in and out when they differ.
/// The compiled primitive, its reordered weights and scratch buffers are cached per input shape.
final class ConvKernel: Kernel {
    let transposed: Bool
    let node: String
    let group: Int
    let strides: [Int]
    let dilations: [Int]
    var pads: [Int]?            // begin h, begin w, end h, end w; nil when auto_pad is SAME_*
    let autoPad: String
    let kernelShape: [Int]?
    let outputPadding: [Int]
    let outputShape: [Int]?

    init(_ a: Attributes, transposed: Bool) throws(ONNXError) {
        self.transposed = transposed
        node = a.node
        group = try a.int("group", default: 1)
        guard group >= 1 else { throw a.unsupported("group", String(group)) }
        kernelShape = try a.ints("kernel_shape")
        if let k = kernelShape, k.count != 2 { throw a.unsupported("kernel_shape", "\(k) (only 2-D convolutions)") }
        strides = try a.ints("strides") ?? [1, 1]
        dilations = try a.ints("dilations") ?? [1, 1]
        guard strides.count == 2, strides.allSatisfy({ $0 >= 1 }) else { throw a.unsupported("strides", "\(strides)") }
        guard dilations.count == 2, dilations.allSatisfy({ $0 >= 1 }) else { throw a.unsupported("dilations", "\(dilations)") }
        autoPad = try a.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET":
            pads = try a.ints("pads") ?? [0, 0, 0, 0]
            guard pads!.count == 4, pads!.allSatisfy({ $0 >= 0 }) else { throw a.unsupported("pads", "\(pads!)") }
        case "VALID": pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            if transposed { throw a.unsupported("auto_pad", autoPad) }
            pads = nil
        default: throw a.unsupported("auto_pad", autoPad)
        }
        if transposed {
            outputPadding = try a.ints("output_padding") ?? [0, 0]
            outputShape = try a.ints("output_shape")
            guard outputPadding.count == 2 else { throw a.unsupported("output_padding", "\(outputPadding)") }
            if outputShape != nil { throw a.unsupported("output_shape") }
        } else {
            outputPadding = [0, 0]
            outputShape = nil
        }
    }

    private final class Compiled {
        let primitive: DNNLPrimitive
        let outShape: [Int]
        /// Reorders to and from the layouts oneDNN chose, with those layouts: their buffers are
        /// the context's shared scratch (steps run one at a time), not one pair per convolution,
        /// which held ~100 MB for the int8 arbitrary-style network's 42 convolutions.
        let srcReorder: (DNNLPrimitive, dnnl_memory_desc_t)?
        let dstReorder: (DNNLPrimitive, dnnl_memory_desc_t)?
        var weights: DNNLMemory
        var weightsOwner: ObjectIdentifier
        let bias: DNNLMemory?
        let biasOwner: ObjectIdentifier?
        let scratch: dnnl_memory_desc_t?

        init(primitive: DNNLPrimitive, outShape: [Int], srcReorder: (DNNLPrimitive, dnnl_memory_desc_t)?,
             dstReorder: (DNNLPrimitive, dnnl_memory_desc_t)?, weights: DNNLMemory, weightsOwner: ObjectIdentifier,
             bias: DNNLMemory?, biasOwner: ObjectIdentifier?, scratch: dnnl_memory_desc_t?) {
            self.primitive = primitive; self.outShape = outShape; self.srcReorder = srcReorder
            self.dstReorder = dstReorder; self.weights = weights; self.weightsOwner = weightsOwner
            self.bias = bias; self.biasOwner = biasOwner; self.scratch = scratch
        }
    }

    private var cache: [[Int]: Compiled] = [:]

    func run(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        // Multiply-adds, roughly (exact for unit strides): small convolutions run on one thread.
        let x = try inputs.floatTensor(0), w = try inputs.floatTensor(1)
        let work = x.count / max(x.shape.count > 1 ? x.shape[1] : 1, 1) * w.count / (strides[0] * strides[1])
        return try OpenMPThreads.forWork(work) { () throws(ONNXError) -> [Value] in try convolve(inputs, context) }
    }

    private func convolve(_ inputs: KernelInputs, _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let x = try inputs.floatTensor(0)
        let w = try inputs.floatTensor(1)
        let b: Tensor? = inputs.optional(2) == nil ? nil : try inputs.floatTensor(2)
        let key = x.shape + w.shape + [b?.count ?? -1]
        var compiled: Compiled
        if let c = cache[key] {
            compiled = c
            if c.weightsOwner != ObjectIdentifier(w.storage) || (b != nil && c.biasOwner != ObjectIdentifier(b!.storage)) {
                // Weights computed at run time (not constants): rebuild, rare.
                compiled = try compile(x.shape, w, b, context)
                cache[key] = compiled
            }
        } else {
            compiled = try compile(x.shape, w, b, context)
            if cache.count > 8 { cache.removeAll() }  // many sizes in a row: keep memory bounded
            cache[key] = compiled
        }
        let dnnl = context.dnnl
        let plainSrc = DNNLMemory(wrapping: x.storage, DNNLDesc.make(x.shape, dnnl_nchw), dnnl)
        let out = context.recycledTensor(compiled.outShape)  // the convolution writes every value
        let plainDst = DNNLMemory(wrapping: out.storage, DNNLDesc.make(out.shape, dnnl_nchw), dnnl)
        var src = plainSrc
        if let (reorder, md) = compiled.srcReorder {
            let memory = DNNLMemory(md, sharing: context.scratch("conv.src", DNNLDesc.size(md)), dnnl)
            dnnl.execute(reorder, [(DNNL_ARG_FROM, plainSrc), (DNNL_ARG_TO, memory)])
            src = memory
        }
        let blockedDst = compiled.dstReorder.map { DNNLMemory($0.1, sharing: context.scratch("conv.dst", DNNLDesc.size($0.1)), dnnl) }
        let dst = blockedDst ?? plainDst
        var args: [(Int32, DNNLMemory)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, compiled.weights), (DNNL_ARG_DST, dst)]
        if let bias = compiled.bias { args.append((DNNL_ARG_BIAS, bias)) }
        if let md = compiled.scratch {
            args.append((DNNL_ARG_SCRATCHPAD, DNNLMemory(md, sharing: context.scratch("conv.scratchpad", DNNLDesc.size(md)), dnnl)))
        }
        dnnl.execute(compiled.primitive, args)
        if let (reorder, _) = compiled.dstReorder, let memory = blockedDst {
            dnnl.execute(reorder, [(DNNL_ARG_FROM, memory), (DNNL_ARG_TO, plainDst)])
        }
        return [Value(floats: out)]
    }

    private func compile(_ xs: [Int], _ w: Tensor, _ b: Tensor?, _ context: ExecutionContext) throws(ONNXError) -> Compiled {
        guard xs.count == 4, w.shape.count == 4 else {
            throw .shapeMismatch("\(transposed ? "ConvTranspose" : "Conv") '\(node)' needs 4-D input and weights, got \(xs) and \(w.shape)")
        }
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (kh, kw) = (w.shape[2], w.shape[3])
        if let k = kernelShape, k != [kh, kw] {
            throw .shapeMismatch("Conv '\(node)': kernel_shape \(k) but weights \(w.shape)")
        }
        // ONNX weights: Conv [O, I/g, kh, kw]; ConvTranspose [I, O/g, kh, kw].
        let inC = transposed ? w.shape[0] : w.shape[1] * group
        let outC = transposed ? w.shape[1] * group : w.shape[0]
        guard c == inC, outC % group == 0, c % group == 0 else {
            throw .shapeMismatch("Conv '\(node)': input \(xs) does not fit weights \(w.shape) with group \(group)")
        }
        if let b, b.count != outC { throw .shapeMismatch("Conv '\(node)': bias of \(b.count) values for \(outC) channels") }
        let effK = [(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1]
        var p = pads ?? [0, 0, 0, 0]
        if pads == nil {
            // SAME_*: output = ceil(input / stride), the odd pixel of padding at the end (UPPER) or start.
            for (i, size) in [h, wd].enumerated() {
                let o = (size + strides[i] - 1) / strides[i]
                let total = max(0, (o - 1) * strides[i] + effK[i] - size)
                let small = total / 2
                p[i] = autoPad == "SAME_UPPER" ? small : total - small
                p[i + 2] = total - p[i]
            }
        }
        var oh: Int, ow: Int
        if transposed {
            oh = (h - 1) * strides[0] + effK[0] - p[0] - p[2] + outputPadding[0]
            ow = (wd - 1) * strides[1] + effK[1] - p[1] - p[3] + outputPadding[1]
        } else {
            oh = (h + p[0] + p[2] - effK[0]) / strides[0] + 1
            ow = (wd + p[1] + p[3] - effK[1]) / strides[1] + 1
            guard h + p[0] + p[2] >= effK[0], wd + p[1] + p[3] >= effK[1] else {
                throw .shapeMismatch("Conv '\(node)': input \(xs) is smaller than the kernel \(w.shape)")
            }
        }
        guard oh > 0, ow > 0 else { throw .shapeMismatch("Conv '\(node)': empty output for input \(xs)") }
        let outShape = [n, outC, oh, ow]

        let dnnl = context.dnnl
        var srcAny = DNNLDesc.make(xs, dnnl_format_tag_any)
        var dstAny = DNNLDesc.make(outShape, dnnl_format_tag_any)
        let wDims = group == 1 ? [outC, inC, kh, kw] : [group, outC / group, inC / group, kh, kw]
        var wAny = DNNLDesc.make(wDims, dnnl_format_tag_any)
        let biasMD = DNNLDesc.make([outC], dnnl_x)
        let s = DNNLDesc.dims(strides), d = DNNLDesc.dims(dilations.map { $0 - 1 })
        let pl = DNNLDesc.dims([p[0], p[1]])
        // oneDNN wants the end padding that makes its size arithmetic exact; output_padding goes there.
        let pr = transposed ? DNNLDesc.dims([p[2] - outputPadding[0], p[3] - outputPadding[1]])
            : DNNLDesc.dims([(oh - 1) * strides[0] + effK[0] - h - p[0], (ow - 1) * strides[1] + effK[1] - wd - p[1]])
        let attr = DNNLAttributes()
        dnnl_primitive_attr_set_scratchpad_mode(attr.handle, dnnl_scratchpad_mode_user)
        var pd: dnnl_primitive_desc_t?
        var status: dnnl_status_t
        let biasStorage = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 1)
        biasStorage.initialize(to: biasMD)
        defer { biasStorage.deallocate() }
        let biasPointer: UnsafePointer<dnnl_memory_desc_t>? = b == nil ? nil : UnsafePointer(biasStorage)
        if transposed {
            var desc = dnnl_deconvolution_desc_t()
            status = dnnl_dilated_deconvolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                                   &srcAny, &wAny, biasPointer, &dstAny, s, d, pl, pr)
            if status == dnnl_success {
                status = withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr.handle, dnnl.engine, nil) }
            }
        } else {
            var desc = dnnl_convolution_desc_t()
            status = dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                                 &srcAny, &wAny, biasPointer, &dstAny, s, d, pl, pr)
            if status == dnnl_success {
                status = withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr.handle, dnnl.engine, nil) }
            }
        }
        guard status == dnnl_success, let pd else {
            throw .shapeMismatch("Conv '\(node)': oneDNN cannot run input \(xs) with weights \(w.shape) (status \(status.rawValue))")
        }
        let primitive = DNNLPrimitive(pd: pd, name: "conv \(node)")

        let plainSrc = DNNLDesc.make(xs, dnnl_nchw), plainDst = DNNLDesc.make(outShape, dnnl_nchw)
        let chosenSrc = primitive.md(dnnl_query_src_md), chosenDst = primitive.md(dnnl_query_dst_md)
        let srcReorder = DNNLDesc.equal(chosenSrc, plainSrc) ? nil
            : (dnnl.reorder(from: plainSrc, to: chosenSrc), chosenSrc)
        let dstReorder = DNNLDesc.equal(chosenDst, plainDst) ? nil
            : (dnnl.reorder(from: chosenDst, to: plainDst), chosenDst)
        let plainTag = transposed ? (group == 1 ? dnnl_iohw : dnnl_giohw) : (group == 1 ? dnnl_oihw : dnnl_goihw)
        let plainW = DNNLMemory(wrapping: w.storage, DNNLDesc.make(wDims, plainTag), dnnl)
        let chosenW = primitive.md(dnnl_query_weights_md)
        let weights = DNNLMemory(chosenW, dnnl)
        dnnl.execute(dnnl.reorder(from: plainW.desc, to: chosenW), [(DNNL_ARG_FROM, plainW), (DNNL_ARG_TO, weights)])
        let bias = b.map { DNNLMemory(wrapping: $0.storage, DNNLDesc.make([outC], dnnl_x), dnnl) }
        let scratchMD = primitive.md(dnnl_query_scratchpad_md)
        let scratch = DNNLDesc.size(scratchMD) > 0 ? scratchMD : nil
        return Compiled(primitive: primitive, outShape: outShape, srcReorder: srcReorder, dstReorder: dstReorder,
                        weights: weights, weightsOwner: ObjectIdentifier(w.storage), bias: bias,
                        biasOwner: b.map { ObjectIdentifier($0.storage) }, scratch: scratch)
    }
}
