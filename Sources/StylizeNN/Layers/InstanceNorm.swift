import CDNNL
import StylizeTensor

/// Instance normalization (Ulyanov, Vedaldi & Lempitsky 2016): each image's channel is shifted
/// and scaled to zero mean and unit variance over its pixels, then by a learned γ and β per
/// channel, optionally followed by ReLU. With several styles it is conditional (Dumoulin, Shlens
/// & Kudlur 2017): one (γ, β) row per style, each image of the batch using its own style's row.
///
/// Runs on oneDNN's batch normalization: an [N, C, H, W] batch seen as [1, N·C, H, W] has
/// per-image statistics, and γ and β are expanded to N·C values per call. The ReLU is fused into
/// the normalization (forward and backward).
public final class InstanceNorm: Layer {
    /// γ, [styles, C]
    public let weight: Parameter
    /// β, [styles, C]
    public let bias: Parameter
    public let fusedReLU: Bool
    public let epsilon: Float
    /// The style row each image of the next batch uses (empty: row 0 for every image).
    public var styleIndices: [Int] = []

    public var channels: Int { weight.value.shape[1] }
    public var styles: Int { weight.value.shape[0] }

    private let context: DNNLContext
    private var plan: NormPlan?
    private var saved: (input: DNNLMemory, mean: DNNLMemory, variance: DNNLMemory, workspace: DNNLMemory?,
                        scale: DNNLMemory, shift: DNNLMemory, rows: [Int])?

    /// γ = 1 and β = 0 for every style, named `name.weight` and `name.bias`.
    public init(name: String, channels: Int, styles: Int = 1, fusedReLU: Bool, epsilon: Float = 1e-5, context: DNNLContext) {
        weight = Parameter(name: name + ".weight", value: Tensor(shape: [styles, channels], repeating: 1))
        bias = Parameter(name: name + ".bias", value: Tensor(shape: [styles, channels]))
        self.fusedReLU = fusedReLU
        self.epsilon = epsilon
        self.context = context
    }

    public var parameters: [Parameter] { [weight, bias] }

    private func rows(batch: Int) throws(NNError) -> [Int] {
        if styleIndices.isEmpty { return Array(repeating: 0, count: batch) }
        guard styleIndices.count == batch, styleIndices.allSatisfy({ (0..<styles).contains($0) }) else {
            throw .wrongInputShape([batch, channels])
        }
        return styleIndices
    }

    /// One style's row of `parameter` per image, as N·C values.
    private func expanded(_ parameter: Tensor, rows: [Int]) -> DNNLMemory {
        let c = channels
        let memory = DNNLMemory(DNNLDesc.make([rows.count * c], dnnl_x), context)
        let out = memory.pointer.assumingMemoryBound(to: Float.self)
        parameter.withUnsafeBufferPointer { p in
            for (n, row) in rows.enumerated() { (out + n * c).update(from: p.baseAddress! + row * c, count: c) }
        }
        return memory
    }

    public func forward(_ input: Tensor) throws(NNError) -> Tensor {
        guard input.shape.count == 4, input.shape[1] == channels else { throw .wrongInputShape(input.shape) }
        if plan?.shape != input.shape {
            plan = nil
            do { plan = try NormPlan(shape: input.shape, epsilon: epsilon, relu: fusedReLU, context: context) } catch {
                throw .kernelUnavailable(error)
            }
        }
        let plan = plan!
        let rows = try rows(batch: input.shape[0])
        let src = plan.toKernel(input, context)
        let stats = DNNLDesc.make([input.shape[0] * channels], dnnl_x)
        let mean = DNNLMemory(stats, context), variance = DNNLMemory(stats, context)
        let workspace = fusedReLU ? DNNLMemory(plan.forward.md(dnnl_query_workspace_md), context) : nil
        let scale = expanded(weight.value, rows: rows), shift = expanded(bias.value, rows: rows)
        let dst = DNNLMemory(plan.data, context)
        var args: [(Int32, DNNLMemory)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst), (DNNL_ARG_SCALE, scale),
                                            (DNNL_ARG_SHIFT, shift), (DNNL_ARG_MEAN, mean), (DNNL_ARG_VARIANCE, variance)]
        if let workspace { args.append((DNNL_ARG_WORKSPACE, workspace)) }
        context.execute(plan.forward, args)
        saved = (src, mean, variance, workspace, scale, shift, rows)
        return plan.toPlain(dst, context)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) throws(NNError) -> Tensor? {
        guard let plan, let saved else { preconditionFailure("\(weight.name): backward before forward") }
        precondition(outputGradient.shape == plan.shape, "\(weight.name): gradient \(outputGradient.shape), output \(plan.shape)")
        let nc = plan.shape[0] * channels
        let diffDst = plan.toKernel(outputGradient, context)
        let diffSrc = DNNLMemory(plan.data, context)
        let diffScale = DNNLMemory(DNNLDesc.make([nc], dnnl_x), context)
        let diffShift = DNNLMemory(DNNLDesc.make([nc], dnnl_x), context)
        var args: [(Int32, DNNLMemory)] = [
            (DNNL_ARG_SRC, saved.input), (DNNL_ARG_MEAN, saved.mean), (DNNL_ARG_VARIANCE, saved.variance),
            (DNNL_ARG_DIFF_DST, diffDst), (DNNL_ARG_SCALE, saved.scale), (DNNL_ARG_SHIFT, saved.shift),
            (DNNL_ARG_DIFF_SRC, diffSrc), (DNNL_ARG_DIFF_SCALE, diffScale), (DNNL_ARG_DIFF_SHIFT, diffShift),
        ]
        if let workspace = saved.workspace { args.append((DNNL_ARG_WORKSPACE, workspace)) }
        context.execute(plan.backward, args)
        // Each image's γ and β gradients go to its style's row.
        let c = channels
        for (parameter, diff) in [(weight, diffScale), (bias, diffShift)] {
            let d = diff.pointer.assumingMemoryBound(to: Float.self)
            parameter.gradient.withUnsafeMutableBufferPointer { g in
                for (n, row) in saved.rows.enumerated() {
                    for k in 0..<c { g[row * c + k] += d[n * c + k] }
                }
            }
        }
        return needsInputGradient ? plan.toPlain(diffSrc, context) : nil
    }
}

/// Batch normalization compiled for one [N, C, H, W] shape seen as [1, N·C, H, W].
///
/// The kernels run on the channel-blocked layout (nChw16c with AVX-512, nChw8c with AVX2) where
/// N·C fills whole blocks: oneDNN's plain-layout batch normalization is several times slower than
/// its blocked one, and the reorders around it cost less than the difference.
final class NormPlan {
    let shape: [Int]
    /// The kernels' data layout.
    let data: dnnl_memory_desc_t
    let forward: DNNLPrimitive
    let backward: DNNLPrimitive
    private let layout: LayoutConversion

    init(shape: [Int], epsilon: Float, relu: Bool, context: DNNLContext) throws(DNNLError) {
        self.shape = shape
        let dims = [1, shape[0] * shape[1], shape[2], shape[3]]
        let plain = DNNLDesc.make(dims, dnnl_nchw)
        let block = CPUCapabilities.current.hasAVX512 ? 16 : 8
        var data = dims[1] % block == 0 ? DNNLDesc.make(dims, block == 16 ? dnnl_nChw16c : dnnl_nChw8c) : plain
        self.data = data
        let flags = UInt32(dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | (relu ? dnnl_fuse_norm_relu.rawValue : 0))
        var fwd = dnnl_batch_normalization_desc_t()
        dnnlCheck(dnnl_batch_normalization_forward_desc_init(&fwd, dnnl_forward_training, &data, epsilon, flags),
                  "instance norm forward descriptor")
        forward = DNNLPrimitive(pd: try context.primitiveDesc(&fwd, name: "instance norm"), name: "instance norm")
        var bwd = dnnl_batch_normalization_desc_t()
        dnnlCheck(dnnl_batch_normalization_backward_desc_init(&bwd, dnnl_backward, &data, &data, epsilon, flags),
                  "instance norm backward descriptor")
        backward = DNNLPrimitive(pd: try context.primitiveDesc(&bwd, hint: forward, name: "instance norm backward"),
                                 name: "instance norm backward")
        layout = LayoutConversion(plain: plain, target: data, context: context)
    }

    /// `tensor` (plain) in the kernels' layout: a copy, or a view when the layouts agree.
    func toKernel(_ tensor: Tensor, _ context: DNNLContext) -> DNNLMemory { layout.load(tensor, context) }

    /// A memory in the kernels' layout as a plain tensor of `shape`.
    func toPlain(_ memory: DNNLMemory, _ context: DNNLContext) -> Tensor {
        layout.store(memory, context).reshaped(shape)
    }
}
