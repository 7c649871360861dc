import CDNNL
import StylizeTensor

/// A 2-D convolution with bias, any square kernel and stride, no padding of its own (a
/// `ReflectionPad2D` in front gives Johnson et al.'s reflection padding), on oneDNN: forward,
/// backward to the input and backward to the weights and bias, for a batch.
///
/// Activations enter and leave as plain NCHW tensors; inside, each primitive works in the blocked
/// layout oneDNN prefers, so a layer costs two reorders around kernels that run at full speed.
public final class Conv2D: Layer {
    /// [out, in, k, k]
    public let weight: Parameter
    /// [out]
    public let bias: Parameter
    public let stride: Int
    /// The kernels' arithmetic: in bf16, activations, weights and gradients enter the kernels as
    /// bfloat16 (float32 accumulation); the parameters, their gradients and the tensors between
    /// layers stay float32.
    public let precision: Precision
    public var inChannels: Int { weight.value.shape[1] }
    public var outChannels: Int { weight.value.shape[0] }
    public var kernelSize: Int { weight.value.shape[2] }

    private let context: DNNLContext
    private var plan: ConvPlan?
    /// The last forward's input, in the backward-weights primitive's layout.
    private var savedInput: DNNLMemory?

    /// A convolution with given initial weights ([out, in, k, k]) and bias ([out]), named
    /// `name.weight` and `name.bias`.
    public init(name: String, weight: Tensor, bias: Tensor, stride: Int = 1, precision: Precision = .fp32, context: DNNLContext) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3], "square [out, in, k, k] kernel")
        precondition(bias.shape == [weight.shape[0]], "one bias per output channel")
        precondition(stride >= 1, "stride ≥ 1")
        self.weight = Parameter(name: name + ".weight", value: weight)
        self.bias = Parameter(name: name + ".bias", value: bias)
        self.stride = stride
        self.precision = precision
        self.context = context
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// Output size along a side of `size` pixels.
    public func outputSize(_ size: Int) -> Int { (size - kernelSize) / stride + 1 }

    private func compiled(for shape: [Int]) throws(NNError) -> ConvPlan {
        if let plan, plan.inputShape == shape { return plan }
        guard shape.count == 4, shape[1] == inChannels else { throw .wrongInputShape(shape) }
        guard shape[2] >= kernelSize, shape[3] >= kernelSize else {
            throw .imageTooSmall(height: shape[2], width: shape[3], layer: weight.name, minimum: kernelSize)
        }
        plan = nil
        do {
            plan = try ConvPlan(inputShape: shape, outChannels: outChannels, kernel: kernelSize, stride: stride,
                                type: precision.dnnlType, name: weight.name, context: context)
        } catch {
            throw .kernelUnavailable(error)
        }
        return plan!
    }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        let plan = try compiled(for: input.shape)
        let src = plan.forwardSource.load(input, context)
        let weights = plan.forwardWeights.load(weight.value, context)
        let biasMemory = DNNLMemory(wrapping: bias.value.storage, DNNLDesc.make([outChannels], dnnl_x), context)
        let dst = DNNLMemory(plan.forward.md(dnnl_query_dst_md), context)
        context.execute(plan.forward, [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weights),
                                       (DNNL_ARG_BIAS, biasMemory), (DNNL_ARG_DST, dst)])
        savedInput = plan.savedInput.map { reorder in
            let out = DNNLMemory(plan.backwardWeights.md(dnnl_query_src_md), context)
            context.execute(reorder, [(DNNL_ARG_FROM, src), (DNNL_ARG_TO, out)])
            return out
        } ?? src
        return plan.output.store(dst, context)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        guard let plan, let savedInput else { preconditionFailure("\(weight.name): backward before forward") }
        precondition(outputGradient.shape == plan.outputShape, "\(weight.name): gradient \(outputGradient.shape), output \(plan.outputShape)")

        // Weights and bias: oneDNN writes fresh gradients, which are then added to the parameters'.
        let diffDst = plan.weightsDiffDst.load(outputGradient, context)
        let diffWeights = DNNLMemory(plan.backwardWeights.md(dnnl_query_diff_weights_md), context)
        let diffBias = Tensor(shape: [outChannels])
        let diffBiasMemory = DNNLMemory(wrapping: diffBias.storage, DNNLDesc.make([outChannels], dnnl_x), context)
        context.execute(plan.backwardWeights, [(DNNL_ARG_SRC, savedInput), (DNNL_ARG_DIFF_DST, diffDst),
                                               (DNNL_ARG_DIFF_WEIGHTS, diffWeights), (DNNL_ARG_DIFF_BIAS, diffBiasMemory)])
        weight.gradient.withUnsafeMutableBufferPointer { _ in }  // unshare before writing in place
        let gradientMemory = DNNLMemory(wrapping: weight.gradient.storage, plan.plainWeights, context)
        context.execute(plan.accumulateWeights, [(DNNL_ARG_FROM, diffWeights), (DNNL_ARG_TO, gradientMemory)])
        bias.gradient.add(diffBias)

        guard needsInputGradient else { return nil }
        if let transposed = plan.transposedData {
            let source = transposed.source.load(Self.zeroPadded(outputGradient, by: kernelSize - 1), context)
            let weights = transposed.weights.load(Self.flippedTransposed(weight.value), context)
            let diffSrc = DNNLMemory(transposed.primitive.md(dnnl_query_dst_md), context)
            context.execute(transposed.primitive, [(DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, diffSrc)])
            return transposed.output.store(diffSrc, context)
        }
        // Both backward passes usually want the gradient in the same layout: convert it once.
        let dataDiffDst = DNNLDesc.equal(plan.dataDiffDst.target, plan.weightsDiffDst.target)
            ? diffDst : plan.dataDiffDst.load(outputGradient, context)
        let weights = plan.backwardDataWeights.load(weight.value, context)
        let diffSrc = DNNLMemory(plan.backwardData.md(dnnl_query_diff_src_md), context)
        context.execute(plan.backwardData, [(DNNL_ARG_DIFF_DST, dataDiffDst), (DNNL_ARG_WEIGHTS, weights),
                                            (DNNL_ARG_DIFF_SRC, diffSrc)])
        return plan.inputGradient.store(diffSrc, context)
    }
}

extension Conv2D {
    /// `tensor` ([N, C, H, W]) with `p` zeros on every side of each plane. (oneDNN's direct kernels
    /// for few input channels take no padding as large as a 9×9 kernel's full convolution needs.)
    static func zeroPadded(_ tensor: Tensor, by p: Int) -> Tensor {
        let (planes, h, w) = (tensor.shape[0] * tensor.shape[1], tensor.shape[2], tensor.shape[3])
        let (ph, pw) = (h + 2 * p, w + 2 * p)
        var result = Tensor(shape: [tensor.shape[0], tensor.shape[1], ph, pw])
        tensor.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { y in
                for plane in 0..<planes {
                    for row in 0..<h {
                        (y.baseAddress! + (plane * ph + row + p) * pw + p).update(from: x.baseAddress! + (plane * h + row) * w, count: w)
                    }
                }
            }
        }
        return result
    }

    /// [out, in, k, k] weights as the [in, out, k, k] kernel of the transposed convolution:
    /// rows and columns flipped, input and output channels swapped.
    static func flippedTransposed(_ weight: Tensor) -> Tensor {
        let (o, i, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        var result = Tensor(shape: [i, o, k, k])
        weight.withUnsafeBufferPointer { w in
            result.withUnsafeMutableBufferPointer { r in
                for a in 0..<o {
                    for b in 0..<i {
                        let from = w.baseAddress! + (a * i + b) * k * k, to = r.baseAddress! + (b * o + a) * k * k
                        for j in 0..<(k * k) { to[k * k - 1 - j] = from[j] }
                    }
                }
            }
        }
        return result
    }
}

/// A reorder between a plain NCHW/OIHW tensor and the layout a primitive wants, or nothing when
/// they are the same.
struct LayoutConversion {
    let plain: dnnl_memory_desc_t
    let target: dnnl_memory_desc_t
    let toTarget: DNNLPrimitive?
    let toPlain: DNNLPrimitive?

    init(plain: dnnl_memory_desc_t, target: dnnl_memory_desc_t, context: DNNLContext) {
        self.plain = plain
        self.target = target
        if DNNLDesc.equal(plain, target) {
            toTarget = nil
            toPlain = nil
        } else {
            toTarget = context.reorder(from: plain, to: target)
            toPlain = context.reorder(from: target, to: plain)
        }
    }

    /// `tensor` as a memory in the target layout (a view of it when no reorder is needed).
    func load(_ tensor: Tensor, _ context: DNNLContext) -> DNNLMemory {
        let wrapped = DNNLMemory(wrapping: tensor.storage, plain, context)
        guard let toTarget else { return wrapped }
        let out = DNNLMemory(target, context)
        context.execute(toTarget, [(DNNL_ARG_FROM, wrapped), (DNNL_ARG_TO, out)])
        return out
    }

    /// A memory in the target layout as a plain tensor.
    func store(_ memory: DNNLMemory, _ context: DNNLContext) -> Tensor {
        var t = Tensor(shape: Self.shape(of: plain))
        guard let toPlain else {
            t.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: memory.pointer.assumingMemoryBound(to: Float.self), count: $0.count) }
            return t
        }
        let out = DNNLMemory(wrapping: t.storage, plain, context)
        context.execute(toPlain, [(DNNL_ARG_FROM, memory), (DNNL_ARG_TO, out)])
        return t
    }

    static func shape(of md: dnnl_memory_desc_t) -> [Int] {
        withUnsafeBytes(of: md.dims) { raw in
            let dims = raw.bindMemory(to: dnnl_dim_t.self)
            return (0..<Int(md.ndims)).map { Int(dims[$0]) }
        }
    }
}

/// A convolution compiled for one input shape: its three primitives and the layout conversions
/// around them.
final class ConvPlan {
    let inputShape: [Int]
    let outputShape: [Int]
    let forward: DNNLPrimitive
    let backwardData: DNNLPrimitive
    let backwardWeights: DNNLPrimitive
    let plainWeights: dnnl_memory_desc_t
    let forwardSource, forwardWeights, output: LayoutConversion
    /// From the forward pass's source layout to the backward-weights one, when they differ.
    let savedInput: DNNLPrimitive?
    let weightsDiffDst: LayoutConversion
    let dataDiffDst, backwardDataWeights, inputGradient: LayoutConversion
    /// Reorder of the weights' gradient into the plain parameter gradient, adding to it.
    let accumulateWeights: DNNLPrimitive
    /// The input gradient of a stride-1 convolution as a forward convolution of the output
    /// gradient (zero-padded by k−1 on each side) with the flipped, transposed kernel, used where oneDNN has no
    /// direct backward-data kernel for the shape (a few output channels, such as the 3 of RGB)
    /// and would fall back to a far slower GEMM; nil where the forward convolution has no direct
    /// kernel either.
    let transposedData: (primitive: DNNLPrimitive, source: LayoutConversion, weights: LayoutConversion,
                         output: LayoutConversion)?

    init(inputShape: [Int], outChannels: Int, kernel: Int, stride: Int, type: dnnl_data_type_t, name: String,
         context: DNNLContext) throws(DNNLError) {
        let (n, ic, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        self.inputShape = inputShape
        outputShape = [n, outChannels, oh, ow]
        let plainSrc = DNNLDesc.make(inputShape, dnnl_nchw)
        let plainDst = DNNLDesc.make(outputShape, dnnl_nchw)
        plainWeights = DNNLDesc.make([outChannels, ic, kernel, kernel], dnnl_oihw)
        var srcAny = DNNLDesc.make(inputShape, dnnl_format_tag_any, type)
        var dstAny = DNNLDesc.make(outputShape, dnnl_format_tag_any, type)
        var weightsAny = DNNLDesc.make([outChannels, ic, kernel, kernel], dnnl_format_tag_any, type)
        // The weights' gradient is accumulated in float32 whatever the arithmetic.
        var diffWeightsAny = DNNLDesc.make([outChannels, ic, kernel, kernel], dnnl_format_tag_any)
        var biasMD = DNNLDesc.make([outChannels], dnnl_x)
        let strides = DNNLDesc.dims([stride, stride]), pad = DNNLDesc.dims([0, 0])

        var fwd = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_training, dnnl_convolution_direct,
                                                     &srcAny, &weightsAny, &biasMD, &dstAny, strides, pad, pad),
                  "\(name) forward descriptor")
        forward = DNNLPrimitive(pd: try context.primitiveDesc(&fwd, name: name), name: name)

        var bwdData = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_backward_data_desc_init(&bwdData, dnnl_convolution_direct, &srcAny, &weightsAny,
                                                           &dstAny, strides, pad, pad),
                  "\(name) backward-data descriptor")
        backwardData = DNNLPrimitive(pd: try context.primitiveDesc(&bwdData, hint: forward, name: name + " backward"),
                                     name: name + " backward")

        var bwdWeights = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_backward_weights_desc_init(&bwdWeights, dnnl_convolution_direct, &srcAny, &diffWeightsAny,
                                                              &biasMD, &dstAny, strides, pad, pad),
                  "\(name) backward-weights descriptor")
        backwardWeights = DNNLPrimitive(pd: try context.primitiveDesc(&bwdWeights, hint: forward, name: name + " weights"),
                                        name: name + " weights")

        forwardSource = LayoutConversion(plain: plainSrc, target: forward.md(dnnl_query_src_md), context: context)
        forwardWeights = LayoutConversion(plain: plainWeights, target: forward.md(dnnl_query_weights_md), context: context)
        output = LayoutConversion(plain: plainDst, target: forward.md(dnnl_query_dst_md), context: context)
        let forwardSrc = forward.md(dnnl_query_src_md), weightsSrc = backwardWeights.md(dnnl_query_src_md)
        savedInput = DNNLDesc.equal(forwardSrc, weightsSrc) ? nil : context.reorder(from: forwardSrc, to: weightsSrc)
        weightsDiffDst = LayoutConversion(plain: plainDst, target: backwardWeights.md(dnnl_query_diff_dst_md), context: context)
        dataDiffDst = LayoutConversion(plain: plainDst, target: backwardData.md(dnnl_query_diff_dst_md), context: context)
        backwardDataWeights = LayoutConversion(plain: plainWeights, target: backwardData.md(dnnl_query_weights_md), context: context)
        inputGradient = LayoutConversion(plain: plainSrc, target: backwardData.md(dnnl_query_diff_src_md), context: context)
        accumulateWeights = context.reorder(from: backwardWeights.md(dnnl_query_diff_weights_md), to: plainWeights, accumulate: true)

        if stride == 1, backwardData.implementation.contains("gemm") {
            let paddedShape = [n, outChannels, oh + 2 * (kernel - 1), ow + 2 * (kernel - 1)]
            var gradientAny = DNNLDesc.make(paddedShape, dnnl_format_tag_any, type)
            var transposedWeightsAny = DNNLDesc.make([ic, outChannels, kernel, kernel], dnnl_format_tag_any, type)
            var inputAny = DNNLDesc.make(inputShape, dnnl_format_tag_any, type)
            var desc = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                         &gradientAny, &transposedWeightsAny, nil, &inputAny, strides, pad, pad),
                      "\(name) transposed descriptor")
            let primitive = DNNLPrimitive(pd: try context.primitiveDesc(&desc, name: name + " transposed"), name: name + " transposed")
            let direct = primitive.implementation.hasPrefix("jit") && !primitive.implementation.contains("gemm")
            transposedData = !direct ? nil : (primitive,
                              LayoutConversion(plain: DNNLDesc.make(paddedShape, dnnl_nchw), target: primitive.md(dnnl_query_src_md),
                                               context: context),
                              LayoutConversion(plain: DNNLDesc.make([ic, outChannels, kernel, kernel], dnnl_oihw),
                                               target: primitive.md(dnnl_query_weights_md), context: context),
                              LayoutConversion(plain: plainSrc, target: primitive.md(dnnl_query_dst_md), context: context))
        } else {
            transposedData = nil
        }
    }
}
