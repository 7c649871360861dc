import CDNNL
import StylizeTensor

/// A 3×3 convolution (stride 1, zero padding 1) followed by ReLU, as in every VGG block.
/// The ReLU is fused into the convolution as a oneDNN post-op, so the activation is written once.
public struct ConvReLU: Sendable {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    /// [out, in, 3, 3] in plain OIHW layout, in the network's precision: bf16 weights are
    /// converted once here, and no float32 copy is kept.
    package let weights: DNNLMemory
    /// [out], float32 in every precision.
    package let bias: Tensor

    package init(name: String, weight: Tensor, bias: Tensor, precision: Precision, context: DNNLContext) {
        self.name = name
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        self.bias = bias
        let dims = [outChannels, inChannels, 3, 3]
        let plain = DNNLMemory(wrapping: weight.storage, DNNLDesc.make(dims, dnnl_oihw), context)
        if precision == .fp32 {
            weights = plain
        } else {
            weights = DNNLMemory(DNNLDesc.make(dims, dnnl_oihw, precision.dnnlType), context)
            context.execute(context.reorder(from: plain.desc, to: weights.desc), [(DNNL_ARG_FROM, plain), (DNNL_ARG_TO, weights)])
        }
    }

    /// oneDNN's name for the kernel it runs VGG-19's 3×3 convolutions with in `precision`
    /// ("brg:avx512_core_bf16", "jit:avx2", …), found by compiling a 64-channel layer: what
    /// `stylize info` shows.
    public static func kernelName(precision: Precision) throws(DNNLError) -> String {
        let context = DNNLContext()
        let layer = ConvReLU(name: "probe", weight: Tensor(shape: [64, 64, 3, 3]), bias: Tensor(shape: [64]),
                             precision: precision, context: context)
        let src = DNNLDesc.make([1, 64, 64, 64], dnnl_format_tag_any, precision.dnnlType)
        return try layer.compile(src: src, height: 64, width: 64, diffSrcType: precision.dnnlType, context: context)
            .forward.implementation
    }

    /// Compiles the layer for a source of layout `src` (its first dimension is the batch) and
    /// spatial size `height`×`width`.
    /// Activations and their gradients use `src`'s data type; `diffSrcType` is the type of the
    /// gradient this layer hands to its input (float32 for the image, whatever the precision).
    /// With `winogradScratch` (at least `WinogradConv3x3.scratchBytes` for the layer), a
    /// float32 layer wide enough and on a blocked layout runs both passes by Winograd's algorithm.
    package func compile(src: dnnl_memory_desc_t, height: Int, width: Int, diffSrcType: dnnl_data_type_t,
                         winogradScratch: DNNLBuffer? = nil, context: DNNLContext) throws(DNNLError) -> ConvReLUPlan {
        try ConvReLUPlan(layer: self, src: src, height: height, width: width, diffSrcType: diffSrcType,
                         winogradScratch: winogradScratch, context: context)
    }

    /// Whether `compile` can take the Winograd path for this layer (given a blocked layout).
    package var suitsWinograd: Bool {
        min(inChannels, outChannels) >= ConvolutionAlgorithm.winogradChannels && inChannels % 16 == 0 && outChannels % 16 == 0
    }
}

/// A ConvReLU compiled for one input size: forward, ReLU backward and backward-to-input
/// primitives, with the weights reordered once into the layouts each kernel prefers.
package final class ConvReLUPlan {
    package let forward: DNNLPrimitive
    package let reluBackward: DNNLPrimitive
    package let backwardData: DNNLPrimitive
    package let forwardWeights: DNNLMemory
    package let backwardWeights: DNNLMemory
    package let bias: DNNLMemory
    /// Layout of the activation this layer writes (and of its gradient).
    package let dst: dnnl_memory_desc_t
    /// Layout of the gradient this layer's backward pass writes for its input.
    package let diffSrc: dnnl_memory_desc_t
    /// Both passes by Winograd's algorithm instead of oneDNN's primitives (see `compile`).
    package let winograd: WinogradConv3x3?

    package init(layer: ConvReLU, src: dnnl_memory_desc_t, height: Int, width: Int, diffSrcType: dnnl_data_type_t,
                 winogradScratch: DNNLBuffer?, context: DNNLContext) throws(DNNLError) {
        let oc = layer.outChannels, ic = layer.inChannels
        var src = src
        // In bf16 the weights and activations are bf16 while every kernel accumulates in fp32;
        // the bias stays fp32.
        let type = src.data_type
        let batch = Int(src.dims.0)  // the images of a batch share the primitives
        var weightsAny = DNNLDesc.make([oc, ic, 3, 3], dnnl_format_tag_any, type)
        var biasMD = DNNLDesc.make([oc], dnnl_x)
        var dstAny = DNNLDesc.make([batch, oc, height, width], dnnl_format_tag_any, type)
        let strides = DNNLDesc.dims([1, 1]), pad = DNNLDesc.dims([1, 1])

        var fwdDesc = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_forward_desc_init(&fwdDesc, dnnl_forward_training, dnnl_convolution_direct,
                                                     &src, &weightsAny, &biasMD, &dstAny, strides, pad, pad),
                  "\(layer.name) forward descriptor")
        let relu = DNNLAttributes(relu: true)
        forward = DNNLPrimitive(pd: try context.primitiveDesc(&fwdDesc, attributes: relu, name: layer.name), name: layer.name)
        dst = forward.md(dnnl_query_dst_md)

        // Backward to the input reads the gradient in the forward output's layout, so gradients
        // flow without reorders. Its own output layout is left to oneDNN: for the 3-channel first
        // layer a plain layout would fall back to a reference kernel ~1000× slower.
        var dstMD = dst
        var diffSrcAny = DNNLDesc.make([batch, ic, height, width], dnnl_format_tag_any, diffSrcType)
        var bwdDesc = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_backward_data_desc_init(&bwdDesc, dnnl_convolution_direct, &diffSrcAny, &weightsAny,
                                                           &dstMD, strides, pad, pad),
                  "\(layer.name) backward descriptor")
        backwardData = DNNLPrimitive(pd: try context.primitiveDesc(&bwdDesc, hint: forward, name: layer.name + " backward"),
                                     name: layer.name + " backward")

        // ReLU's derivative from its output: 1 where the output is positive.
        var reluDesc = dnnl_eltwise_desc_t()
        dnnlCheck(dnnl_eltwise_backward_desc_init(&reluDesc, dnnl_eltwise_relu_use_dst_for_bwd, &dstMD, &dstMD, 0, 0),
                  "\(layer.name) relu backward descriptor")
        var reluFwdDesc = dnnl_eltwise_desc_t()
        dnnlCheck(dnnl_eltwise_forward_desc_init(&reluFwdDesc, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd, &dstMD, 0, 0),
                  "\(layer.name) relu hint descriptor")
        let reluHint = DNNLPrimitive(pd: try context.primitiveDesc(&reluFwdDesc, name: "relu hint"), name: "relu hint")
        reluBackward = DNNLPrimitive(pd: try context.primitiveDesc(&reluDesc, hint: reluHint, name: layer.name + " relu backward"),
                                     name: layer.name + " relu backward")

        bias = DNNLMemory(wrapping: layer.bias.storage, biasMD, context)

        // Winograd where the layer is float32, wide, and both its input and its output are in
        // the same 8- or 16-channel blocked layout; its input gradient then takes that layout too,
        // and oneDNN's primitives (kept for their descriptors) need no weights of their own.
        let (srcMD, outMD) = (src, dst)
        let block = [8, 16].first { b in
            let tag = b == 8 ? dnnl_nChw8c : dnnl_nChw16c
            return DNNLDesc.equal(srcMD, DNNLDesc.make([batch, ic, height, width], tag))
                && DNNLDesc.equal(outMD, DNNLDesc.make([batch, oc, height, width], tag))
        }
        if let winogradScratch, let block, type == dnnl_f32, diffSrcType == dnnl_f32, layer.suitsWinograd {
            winograd = try WinogradConv3x3(weight: layer.weights.pointer.assumingMemoryBound(to: Float.self), outChannels: oc,
                                           inChannels: ic, batch: batch, height: height, width: width, block: block,
                                           scratch: winogradScratch, context: context)
            diffSrc = src
            (forwardWeights, backwardWeights) = (layer.weights, layer.weights)
        } else {
            winograd = nil
            diffSrc = backwardData.md(dnnl_query_diff_src_md)
            forwardWeights = Self.reordered(layer.weights, to: forward.md(dnnl_query_weights_md), context)
            backwardWeights = Self.reordered(layer.weights, to: backwardData.md(dnnl_query_weights_md), context)
        }
    }

    private static func reordered(_ memory: DNNLMemory, to md: dnnl_memory_desc_t, _ context: DNNLContext) -> DNNLMemory {
        if DNNLDesc.equal(memory.desc, md) { return memory }
        let out = DNNLMemory(md, context)
        context.execute(context.reorder(from: memory.desc, to: md), [(DNNL_ARG_FROM, memory), (DNNL_ARG_TO, out)])
        return out
    }

    /// dst = relu(conv(src) + bias)
    package func runForward(src: DNNLMemory, dst: DNNLMemory, context: DNNLContext) {
        if let winograd {
            winograd.forward(src: src.pointer.assumingMemoryBound(to: Float.self), dst: dst.pointer.assumingMemoryBound(to: Float.self),
                             bias: bias.pointer.assumingMemoryBound(to: Float.self))
            return
        }
        context.execute(forward, [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, forwardWeights),
                                  (DNNL_ARG_BIAS, bias), (DNNL_ARG_DST, dst)])
    }

    /// diffSrc = convᵀ(relu'(dst) ⊙ diffDst). May overwrite diffDst with the pre-ReLU gradient.
    package func runBackward(dst: DNNLMemory, diffDst: DNNLMemory, diffSrc: DNNLMemory, context: DNNLContext) {
        if let winograd {
            winograd.backwardData(diffDst: diffDst.pointer.assumingMemoryBound(to: Float.self),
                                  out: dst.pointer.assumingMemoryBound(to: Float.self),
                                  diffSrc: diffSrc.pointer.assumingMemoryBound(to: Float.self))
            return
        }
        context.execute(reluBackward, [(DNNL_ARG_DST, dst), (DNNL_ARG_DIFF_DST, diffDst), (DNNL_ARG_DIFF_SRC, diffDst)])
        context.execute(backwardData, [(DNNL_ARG_DIFF_DST, diffDst), (DNNL_ARG_WEIGHTS, backwardWeights),
                                       (DNNL_ARG_DIFF_SRC, diffSrc)])
    }
}
