import CDNNL
import StylizeTensor
import StylizeNN
import StylizeIO

/// VGG-19's convolutional part (Simonyan & Zisserman 2014) as a feature extractor for style
/// transfer: 16 conv+ReLU layers in five blocks separated by 2×2 pooling. Its forward pass stops
/// at the deepest requested layer; its backward pass takes loss gradients at the requested layers
/// and returns the gradient with respect to the input image.
///
/// Activations stay in oneDNN's blocked layout from layer to layer; only the requested taps are
/// converted to plain NCHW tensors. The compiled plan and its buffers are kept for the last input
/// size, so repeated iterations allocate nothing; a new size replaces it (oneDNN's primitive cache
/// makes switching back cheap).
public final class VGG19 {
    /// The activations that can be requested, in network order (one per convolution).
    public static let layerNames: [String] = [
        "relu1_1", "relu1_2", "relu2_1", "relu2_2",
        "relu3_1", "relu3_2", "relu3_3", "relu3_4",
        "relu4_1", "relu4_2", "relu4_3", "relu4_4",
        "relu5_1", "relu5_2", "relu5_3", "relu5_4",
    ]

    /// Output channels of each convolution.
    public static let channels = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512]

    enum Step: Equatable { case conv(Int), pool }

    /// The network as the paper draws it.
    static let steps: [Step] = [
        .conv(0), .conv(1), .pool,
        .conv(2), .conv(3), .pool,
        .conv(4), .conv(5), .conv(6), .conv(7), .pool,
        .conv(8), .conv(9), .conv(10), .conv(11), .pool,
        .conv(12), .conv(13), .conv(14), .conv(15),
    ]

    public let layers: [ConvReLU]
    public let pooling: Pooling
    public let precision: Precision
    /// How the float32 convolutions are computed (bf16 ones are always direct).
    public let algorithm: ConvolutionAlgorithm
    private let context = DNNLContext()
    private var plan: Plan?
    /// How deep the last forward pass went; backward starts no deeper.
    private var lastDepth: Int?

    /// - Parameter convolutions: 16 (weight [out, in, 3, 3], bias [out]) pairs, conv1_1 … conv5_4.
    /// - Parameter precision: the kernels' arithmetic; bf16 is emulated (slowly) on AVX-512 CPUs
    ///   without it, and refused (`NNError.precisionUnavailable`) on older ones.
    public init(convolutions: [(weight: Tensor, bias: Tensor)], pooling: Pooling, precision: Precision = .fp32,
                algorithm: ConvolutionAlgorithm = .automatic) throws(NNError) {
        guard precision.isAvailable else { throw .precisionUnavailable(precision, cpu: CPUCapabilities.current.isaName) }
        guard convolutions.count == Self.channels.count else {
            throw .wrongLayerCount(expected: Self.channels.count, got: convolutions.count)
        }
        var inChannels = 3
        var layers: [ConvReLU] = []
        for (i, (w, b)) in convolutions.enumerated() {
            let name = "conv" + Self.layerNames[i].dropFirst(4)
            let expected = [Self.channels[i], inChannels, 3, 3]
            guard w.shape == expected else { throw .wrongWeightShape(layer: name, expected: expected, got: w.shape) }
            guard b.shape == [Self.channels[i]] else {
                throw .wrongWeightShape(layer: name + " bias", expected: [Self.channels[i]], got: b.shape)
            }
            // In bf16 the image enters as two bf16 halves (see Plan), so conv1_1 sees it twice.
            let weight = i == 0 && precision != .fp32 ? Self.duplicatingInputChannels(w) : w
            layers.append(ConvReLU(name: name, weight: weight, bias: b, precision: precision, context: context))
            inChannels = Self.channels[i]
        }
        self.layers = layers
        self.pooling = pooling
        self.precision = precision
        self.algorithm = algorithm
    }

    /// [out, in, kh, kw] → [out, 2·in, kh, kw] with the same kernel on both copies of the input.
    private static func duplicatingInputChannels(_ w: Tensor) -> Tensor {
        let (o, perOut) = (w.shape[0], w.count / w.shape[0])
        let scalars = w.scalars
        var doubled: [Float] = []
        doubled.reserveCapacity(2 * w.count)
        for k in 0..<o { let row = scalars[k * perOut ..< (k + 1) * perOut]; doubled += row; doubled += row }
        return Tensor(shape: [o, 2 * w.shape[1]] + w.shape[2...], scalars: doubled)
    }

    /// How many times smaller than the picture layer `name`'s activation is on each side (1, 2,
    /// 4, 8 or 16: one halving per pooling before it; each halving rounds down).
    public static func downsampling(of name: String) -> Int {
        guard let s = slot(of: name) else { return 1 }
        return 1 << steps[..<s].filter { $0 == .pool }.count
    }

    /// The step after which layer `name`'s activation is available, or nil for an unknown name.
    static func slot(of name: String) -> Int? {
        guard let conv = layerNames.firstIndex(of: name) else { return nil }
        return steps.firstIndex(of: .conv(conv))! + 1
    }

    /// Runs the network on `input` ([N, 3, H, W], already preprocessed) up to the deepest of `taps`
    /// and returns the activation of each tap as [N, C, h, w].
    public func forward(_ input: Tensor, taps: Set<String>) throws(NNError) -> [String: Tensor] {
        let (slots, depth) = try validate(input, taps: taps)
        let plan = try self.plan(batch: input.shape[0], height: input.shape[2], width: input.shape[3], depth: depth)
        plan.run(input: input, depth: depth, context: context)
        lastDepth = depth
        return slots.mapValues { plan.read(slot: $0, context: context) }
    }

    /// Checks the input's shape and the tap names; returns each tap's slot and the depth needed.
    private func validate(_ input: Tensor, taps: Set<String>) throws(NNError) -> (slots: [String: Int], depth: Int) {
        guard input.shape.count == 4, input.shape[0] >= 1, input.shape[1] == 3 else { throw .wrongInputShape(input.shape) }
        var slots: [String: Int] = [:]
        for name in taps {
            guard let s = Self.slot(of: name) else { throw .unknownLayer(name) }
            slots[name] = s
        }
        let depth = slots.values.max() ?? 0
        let (h, w) = (input.shape[2], input.shape[3])
        let pools = Self.steps[..<depth].filter { $0 == .pool }.count
        let minimum = 1 << pools
        if h < minimum || w < minimum, let deepest = slots.max(by: { $0.value < $1.value })?.key {
            throw .imageTooSmall(height: h, width: w, layer: deepest, minimum: minimum)
        }
        return (slots, depth)
    }

    /// One evaluation of a loss on the network's activations and its gradient with respect to the
    /// input, in a single pass that keeps memory low: at each tap, `loss` receives the activation
    /// (plain [N, C, h, w] float32), and must replace it with the loss gradient with respect to it
    /// (returning nothing else); the gradient is kept in the network's own compact layout while
    /// the forward pass goes on. Returns dLoss/dInput ([N, 3, H, W]).
    public func gradient(_ input: Tensor, taps: Set<String>,
                         loss: (_ layer: String, _ activation: inout Tensor) -> Void) throws(NNError) -> Tensor {
        let (slots, depth) = try validate(input, taps: taps)
        let plan = try self.plan(batch: input.shape[0], height: input.shape[2], width: input.shape[3], depth: depth)
        lastDepth = nil  // activations are overwritten in place of nothing; backward() needs a forward()
        var names: [Int: String] = [:]
        for (name, s) in slots { names[s] = name }
        return plan.evaluate(input: input, taps: names, depth: depth, loss: loss, context: context)
    }

    /// The gradient with respect to the input of the last `forward`, given the loss gradients
    /// at (some of) its taps, each shaped like the tap's activation.
    public func backward(_ gradients: [String: Tensor]) -> Tensor {
        guard let plan, let lastDepth else { preconditionFailure("VGG19.backward before forward") }
        var bySlot: [Int: Tensor] = [:]
        for (name, g) in gradients {
            guard let s = Self.slot(of: name), s <= lastDepth else { preconditionFailure("no forward activation for \(name)") }
            bySlot[s] = g
        }
        return plan.backward(bySlot, context: context)
    }

    private func plan(batch: Int, height: Int, width: Int, depth: Int) throws(NNError) -> Plan {
        if let p = plan, p.batch == batch, p.height == height, p.width == width, p.depth >= depth { return p }
        // Free the old buffers before allocating new ones.
        plan = nil
        lastDepth = nil
        let p: Plan
        do {
            p = try Plan(layers: layers, pooling: pooling, precision: precision, winograd: precision == .fp32 && algorithm == .winograd,
                         batch: batch, height: height, width: width, depth: depth, context: context)
        } catch {
            throw .kernelUnavailable(error)
        }
        plan = p
        return p
    }

    /// Frees the compiled plan and its buffers (rebuilt on demand).
    public func releaseBuffers() {
        plan = nil
        lastDepth = nil
    }
}

/// The first `depth` steps of VGG-19 compiled for one input size and batch, with a forward buffer and a
/// gradient buffer per step output ("slot"; slot 0 is the input image in the first layer's
/// layout and precision; `image` is the same in plain float32 NCHW, as callers give it).
private final class Plan {
    enum Compiled { case conv(ConvReLUPlan), pool(Pool2DPlan) }
    let depth: Int
    let batch: Int, height: Int, width: Int
    let compiled: [Compiled]
    let activations: [DNNLMemory]
    let gradients: [DNNLMemory]
    let shapes: [[Int]]
    let mds: [dnnl_memory_desc_t]
    /// Loss gradients at the taps of `evaluate`, in the slots' own layouts; made on first use.
    private var tapGradients: [Int: DNNLMemory] = [:]

    init(layers: [ConvReLU], pooling: Pooling, precision: Precision, winograd: Bool, batch: Int, height: Int, width: Int,
         depth: Int, context: DNNLContext) throws(DNNLError) {
        self.depth = depth
        self.batch = batch
        self.height = height
        self.width = width
        // fp32 reads the plain image directly. bf16 would round pixels to steps of 0.5–1 (on the
        // 0–255 scale), which stalls the optimizer; so the image enters as two bf16 halves,
        // hi = bf16(x) and lo = bf16(x − hi), six channels whose sum carries ~16 bits, and
        // conv1_1 applies its kernel to both (it is linear).
        inputChannels = precision == .fp32 ? 3 : 6
        let imageMD = DNNLDesc.make([batch, inputChannels, height, width], dnnl_nchw, precision == .fp32 ? dnnl_f32 : dnnl_bf16)
        var md = precision == .fp32 ? imageMD : DNNLDesc.make([batch, 6, height, width], dnnl_format_tag_any, dnnl_bf16)
        var shape = [batch, inputChannels, height, width]
        // One scratch buffer serves every Winograd layer in turn: the largest one's size.
        var winogradBytes = 0
        if winograd {
            var (h, w) = (height, width)
            for step in VGG19.steps[..<depth] {
                switch step {
                case .conv(let i) where layers[i].suitsWinograd:
                    winogradBytes = max(winogradBytes, WinogradConv3x3.scratchBytes(
                        inChannels: layers[i].inChannels, outChannels: layers[i].outChannels, batch: batch, height: h, width: w))
                case .conv: break
                case .pool: (h, w) = (h / 2, w / 2)
                }
            }
        }
        let winogradScratch = winogradBytes > 0 ? DNNLBuffer(byteCount: winogradBytes) : nil
        var compiled: [Compiled] = []
        var mds = [md]
        var shapes = [shape]
        for step in VGG19.steps[..<depth] {
            switch step {
            case .conv(let i):
                let p = try layers[i].compile(src: md, height: shape[2], width: shape[3],
                                              diffSrcType: i == 0 ? dnnl_f32 : precision.dnnlType,
                                              winogradScratch: winogradScratch, context: context)
                compiled.append(.conv(p))
                if i == 0 { mds[0] = p.forward.md(dnnl_query_src_md) }  // the layout it chose for "any"
                md = p.dst
                shape[1] = layers[i].outChannels
            case .pool:
                let p = try Pool2DPlan(pooling: pooling, src: md, channels: shape[1], height: shape[2], width: shape[3], context: context)
                compiled.append(.pool(p))
                md = p.dst
                shape[2] /= 2
                shape[3] /= 2
            }
            mds.append(md)
            shapes.append(shape)
        }
        self.compiled = compiled
        self.shapes = shapes
        // A pooling output (and the converted input) only feeds the next convolution's forward
        // pass; backward needs none of them, so they share one buffer.
        let transient = Set(compiled.enumerated().compactMap { j, step -> Int? in
            if case .pool = step { return j + 1 } else { return nil }
        }).union(precision == .fp32 ? [] : [0])
        let shared = DNNLBuffer(byteCount: transient.map { DNNLDesc.size(mds[$0]) }.max() ?? 0)
        activations = mds.enumerated().map { s, md in
            transient.contains(s) ? DNNLMemory(md, sharing: shared, context) : DNNLMemory(md, context)
        }
        self.mds = mds
        // The image's gradient arrives in the first convolution's preferred layout and is
        // converted to plain NCHW once at the end.
        var gradientMDs = mds
        if case .conv(let first)? = compiled.first { gradientMDs[0] = first.diffSrc }
        for case (let j, .conv(let p)) in compiled.enumerated() where j > 0 {
            precondition(DNNLDesc.equal(p.diffSrc, mds[j]), "layer \(j) writes its gradient in an unexpected layout")
        }
        // Backward needs only the gradient above and the one below the current step, so two
        // halves of one buffer serve all slots: slot j lives in half j % 2. The forward pass of
        // `evaluate` borrows the whole buffer for each tap's float32 copy (backward has not
        // started then), so the largest tap costs no memory of its own.
        let half = (gradientMDs.map(DNNLDesc.size).max()! + 63) / 64 * 64
        let largestTap = shapes.dropFirst().map { $0.reduce(1, *) * MemoryLayout<Float>.stride }.max() ?? 0
        scratch = DNNLBuffer(byteCount: max(2 * half, largestTap))
        gradients = gradientMDs.enumerated().map { [scratch] in DNNLMemory($1, sharing: scratch, offset: $0 % 2 * half, context) }
        image = DNNLMemory(imageMD, context)
        toNetwork = DNNLDesc.equal(imageMD, mds[0]) ? nil : context.reorder(from: imageMD, to: mds[0])
        plainGradientMD = DNNLDesc.make([batch, inputChannels, height, width], dnnl_nchw)
        imageGradient = context.reorder(from: gradientMDs[0], to: plainGradientMD)
    }

    /// The gradients' two halves, lent to `evaluate`'s taps during the forward pass.
    private let scratch: DNNLBuffer
    /// 3 in fp32; 6 (hi and lo halves) in bf16.
    private let inputChannels: Int
    /// The input image in plain NCHW: float32 as callers give it, or its bf16 halves.
    private let image: DNNLMemory
    private let toNetwork: DNNLPrimitive?
    private let plainGradientMD: dnnl_memory_desc_t
    private let imageGradient: DNNLPrimitive

    /// Copies the caller's image into the network's first slot.
    private func load(_ input: Tensor, context: DNNLContext) {
        let target = toNetwork == nil ? activations[0] : image
        input.withUnsafeBufferPointer { src in
            if inputChannels == 3 {
                target.pointer.copyMemory(from: src.baseAddress!, byteCount: src.count * MemoryLayout<Float>.stride)
            } else {
                // Per image: channels 0–2 the high halves, 3–5 the low ones.
                let halves = target.pointer.assumingMemoryBound(to: UInt16.self)
                let perImage = src.count / batch
                for n in 0..<batch {
                    let (from, to) = (n * perImage, 2 * n * perImage)
                    for i in 0..<perImage {
                        let x = src[from + i]
                        let hi = Self.bf16(x)
                        halves[to + i] = hi
                        halves[to + perImage + i] = Self.bf16(x - Float(bitPattern: UInt32(hi) << 16))
                    }
                }
            }
        }
        if let toNetwork { context.execute(toNetwork, [(DNNL_ARG_FROM, image), (DNNL_ARG_TO, activations[0])]) }
    }

    /// Round to nearest even, as oneDNN converts (inputs here are finite).
    private static func bf16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// Runs the first `depth` steps (at most the plan's own depth).
    func run(input: Tensor, depth: Int, context: DNNLContext) {
        load(input, context: context)
        for (j, step) in compiled[..<depth].enumerated() {
            switch step {
            case .conv(let p): p.runForward(src: activations[j], dst: activations[j + 1], context: context)
            case .pool(let p): p.runForward(src: activations[j], dst: activations[j + 1], context: context)
            }
        }
    }

    /// Slot `s`'s activation as a plain NCHW tensor, in new memory or viewing `buffer`.
    func read(slot s: Int, into buffer: DNNLBuffer? = nil, context: DNNLContext) -> Tensor {
        let count = shapes[s].reduce(1, *)
        let out = buffer.map { Tensor(shape: shapes[s], storage: TensorStorage(viewing: $0.pointer, count: count, owner: $0)) }
            ?? Tensor(shape: shapes[s])
        let plain = DNNLMemory(wrapping: out.storage, DNNLDesc.make(shapes[s], dnnl_nchw), context)
        context.execute(context.reorder(from: activations[s].desc, to: plain.desc), [(DNNL_ARG_FROM, activations[s]), (DNNL_ARG_TO, plain)])
        return out
    }

    /// Writes (or adds, with `accumulate`) a plain NCHW gradient into slot `s`'s gradient buffer.
    private func inject(_ g: Tensor, slot s: Int, accumulate: Bool, context: DNNLContext) {
        precondition(g.shape == shapes[s], "gradient shape \(g.shape) does not match activation \(shapes[s])")
        let plain = DNNLMemory(wrapping: g.storage, DNNLDesc.make(shapes[s], dnnl_nchw), context)
        context.execute(context.reorder(from: plain.desc, to: gradients[s].desc, accumulate: accumulate),
                        [(DNNL_ARG_FROM, plain), (DNNL_ARG_TO, gradients[s])])
    }

    /// Forward with the loss applied at each tap as it is reached, then backward (see VGG19.gradient).
    func evaluate(input: Tensor, taps: [Int: String], depth: Int,
                  loss: (String, inout Tensor) -> Void, context: DNNLContext) -> Tensor {
        load(input, context: context)
        for (j, step) in compiled[..<depth].enumerated() {
            switch step {
            case .conv(let p): p.runForward(src: activations[j], dst: activations[j + 1], context: context)
            case .pool(let p): p.runForward(src: activations[j], dst: activations[j + 1], context: context)
            }
            guard let name = taps[j + 1] else { continue }
            // One float32 activation at a time, in the (idle) gradient buffers; its gradient is
            // stored compactly.
            var activation = read(slot: j + 1, into: scratch, context: context)
            loss(name, &activation)
            precondition(activation.shape == shapes[j + 1], "loss gradient at \(name) has the wrong shape")
            let stored = tapGradients[j + 1] ?? DNNLMemory(mds[j + 1], context)
            tapGradients[j + 1] = stored
            let plain = DNNLMemory(wrapping: activation.storage, DNNLDesc.make(shapes[j + 1], dnnl_nchw), context)
            context.execute(context.reorder(from: plain.desc, to: stored.desc), [(DNNL_ARG_FROM, plain), (DNNL_ARG_TO, stored)])
        }
        let result = Tensor(shape: [batch, 3, height, width])
        guard let top = taps.keys.max() else { return result }
        context.execute(context.reorder(from: mds[top], to: mds[top]), [(DNNL_ARG_FROM, tapGradients[top]!), (DNNL_ARG_TO, gradients[top])])
        for j in stride(from: top - 1, through: 0, by: -1) {
            backwardStep(j, context: context)
            if j > 0, taps[j] != nil {
                context.execute(context.reorder(from: mds[j], to: mds[j], accumulate: true),
                                [(DNNL_ARG_FROM, tapGradients[j]!), (DNNL_ARG_TO, gradients[j])])
            }
        }
        return imageGradientTensor(context: context)
    }

    private func backwardStep(_ j: Int, context: DNNLContext) {
        switch compiled[j] {
        case .conv(let p):
            p.runBackward(dst: activations[j + 1], diffDst: gradients[j + 1], diffSrc: gradients[j], context: context)
        case .pool(let p):
            p.runBackward(diffDst: gradients[j + 1], diffSrc: gradients[j], context: context)
        }
    }

    /// dLoss/dImage, [N, 3, H, W]. In bf16 both halves have the same gradient; the first is kept.
    private func imageGradientTensor(context: DNNLContext) -> Tensor {
        let plain = Tensor(shape: [batch, inputChannels, height, width])
        context.execute(imageGradient, [(DNNL_ARG_FROM, gradients[0]),
                                        (DNNL_ARG_TO, DNNLMemory(wrapping: plain.storage, plainGradientMD, context))])
        if inputChannels == 3 { return plain }
        let result = Tensor(shape: [batch, 3, height, width])
        let perImage = result.count / batch
        for n in 0..<batch {
            (result.storage.pointer + n * perImage).update(from: plain.storage.pointer + 2 * n * perImage, count: perImage)
        }
        return result
    }

    func backward(_ bySlot: [Int: Tensor], context: DNNLContext) -> Tensor {
        let result = Tensor(shape: [batch, 3, height, width])
        guard let top = bySlot.keys.max() else { return result }
        inject(bySlot[top]!, slot: top, accumulate: false, context: context)
        for j in stride(from: top - 1, through: 0, by: -1) {
            backwardStep(j, context: context)
            if j > 0, let g = bySlot[j] { inject(g, slot: j, accumulate: true, context: context) }
        }
        return imageGradientTensor(context: context)
    }
}
