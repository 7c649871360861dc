import CDNNL
import StylizeTensor

/// A 3×3 convolution (stride 1, zero padding 1) by Winograd's minimal filtering F(2×2, 3×3)
/// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 2×2 block of
/// the output costs 16 multiplications per input channel instead of 36, done as 16 matrix
/// products (one batched oneDNN matmul), with the input and output transforms around them, on
/// oneDNN's own threads. oneDNN 2.6 has a Winograd convolution for AVX-512 only; this one serves
/// float32 everywhere.
///
/// Activations are oneDNN's blocked layouts nChw8c or nChw16c (float32), as VGG-19's plan keeps
/// them; the transforms work on 8 channels at a time. The backward pass to the input is the
/// convolution with the flipped kernel and the channels' roles swapped, whose transformed kernel
/// is the forward one with rows and columns 0 and 3 exchanged (G·J = P·G for G below), so one
/// transformed kernel serves both passes.
package final class WinogradConv3x3: @unchecked Sendable {
    package let inChannels: Int, outChannels: Int
    package let batch: Int, height: Int, width: Int
    /// Channels per block of the layout (8 or 16).
    package let block: Int
    private let tilesY: Int, tilesX: Int, tiles: Int
    /// Tiles transformed and multiplied at a time, so that their transformed input and products
    /// stay in the cache between the three steps.
    private let chunk: Int
    /// U[k][ci][co], k = 4·row + column of the transformed 4×4 kernel.
    private let u: DNNLBuffer
    private let forwardProducts: DNNLPrimitive, backwardProducts: DNNLPrimitive
    private let memories: (v: DNNLMemory, u: DNNLMemory, m: DNNLMemory, vBack: DNNLMemory, uBack: DNNLMemory, mBack: DNNLMemory)
    private let context: DNNLContext

    /// Tiles per chunk: about 8 MB of transformed input and products.
    private static func chunkTiles(inChannels: Int, outChannels: Int, tiles: Int) -> Int {
        min(tiles, max(64, (8 << 20) / (16 * (inChannels + outChannels) * MemoryLayout<Float>.stride)))
    }

    /// Floats from one of the 16 slots of a chunk's transformed input (or products) to the
    /// next: a chunk of `channels`-wide rows, plus 64 bytes so that the 16 slots a transform
    /// reads or writes together do not fall on the same cache sets.
    private static func slotStride(chunk: Int, channels: Int) -> Int { chunk * channels + 16 }

    /// Bytes of scratch a layer of these sizes needs (shared by layers run one after another).
    package static func scratchBytes(inChannels: Int, outChannels: Int, batch: Int, height: Int, width: Int) -> Int {
        let tiles = batch * ((height + 1) / 2) * ((width + 1) / 2)
        let chunk = chunkTiles(inChannels: inChannels, outChannels: outChannels, tiles: tiles)
        return 16 * (slotStride(chunk: chunk, channels: inChannels) + slotStride(chunk: chunk, channels: outChannels))
            * MemoryLayout<Float>.stride + 128
    }

    /// - Parameter weight: [out, in, 3, 3] float32, plain.
    /// - Parameter chunkTiles: tiles per chunk, if not the cache-sized default (tests).
    package init(weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                 batch: Int, height: Int, width: Int, block: Int, scratch: DNNLBuffer, context: DNNLContext,
                 chunkTiles: Int? = nil) throws(DNNLError) {
        precondition(block == 8 || block == 16, "Winograd layers work on nChw8c or nChw16c")
        precondition(inChannels % block == 0 && outChannels % block == 0, "channels must fill the layout's blocks")
        (self.inChannels, self.outChannels) = (inChannels, outChannels)
        (self.batch, self.height, self.width, self.block) = (batch, height, width, block)
        (tilesY, tilesX) = ((height + 1) / 2, (width + 1) / 2)
        tiles = batch * tilesY * tilesX
        let sized = Self.chunkTiles(inChannels: inChannels, outChannels: outChannels, tiles: tiles)
        chunk = min(sized, max(1, chunkTiles ?? sized))
        precondition(scratch.byteCount >= Self.scratchBytes(inChannels: inChannels, outChannels: outChannels, batch: batch,
                                                              height: height, width: width))
        self.context = context
        let (ci, co) = (inChannels, outChannels)
        let kernel = DNNLBuffer(byteCount: 16 * ci * co * MemoryLayout<Float>.stride)
        u = kernel
        let u = kernel.pointer.assumingMemoryBound(to: Float.self)
        // U = G g Gᵀ with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], first t = G g (4×3), then t Gᵀ.
        for o in 0..<co {
            for i in 0..<ci {
                let g = weight + (o * ci + i) * 9
                for r in 0..<4 {
                    let (a, b, c): (Float, Float, Float)
                    switch r {
                    case 0: (a, b, c) = (g[0], g[1], g[2])
                    case 3: (a, b, c) = (g[6], g[7], g[8])
                    case 1: (a, b, c) = (0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8]))
                    default: (a, b, c) = (0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8]))
                    }
                    let at = u + (r * 4 * ci + i) * co + o, step = ci * co
                    (at[0], at[step], at[2 * step], at[3 * step]) = (a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
                }
            }
        }
        // Forward: M_k (chunk × co) = V_k (chunk × ci) · U_k. Backward: the same U read transposed
        // (U_kᵀ, co × ci), with the transforms storing and reading slot k at P(k) (see `slot`).
        let chunk = chunk
        func products(_ a: Int, _ b: Int, transposed: Bool) throws(DNNLError) -> (DNNLPrimitive, DNNLMemory, DNNLMemory, DNNLMemory) {
            var src = DNNLDesc.make([16, chunk, a], strides: [Self.slotStride(chunk: chunk, channels: a), a, 1])
            var weights = DNNLDesc.make([16, a, b], transposed ? dnnl_acb : dnnl_abc)
            var dst = DNNLDesc.make([16, chunk, b], strides: [Self.slotStride(chunk: chunk, channels: b), b, 1])
            var desc = dnnl_matmul_desc_t()
            dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "Winograd matmul descriptor")
            let primitive = DNNLPrimitive(pd: try context.primitiveDesc(&desc, name: "winograd products"), name: "winograd products")
            let srcBytes = (DNNLDesc.size(src) + 63) / 64 * 64
            return (primitive, DNNLMemory(src, sharing: scratch, context), DNNLMemory(weights, sharing: kernel, context),
                    DNNLMemory(dst, sharing: scratch, offset: srcBytes, context))
        }
        let (f, v, uf, m) = try products(ci, co, transposed: false)
        let (b, vb, ub, mb) = try products(co, ci, transposed: true)
        (forwardProducts, backwardProducts) = (f, b)
        memories = (v, uf, m, vb, ub, mb)
    }

    /// dst = ReLU(conv(src) + bias), both in the layer's blocked layout.
    package func forward(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>) {
        run(src: src, channelsIn: inChannels, dst: dst, channelsOut: outChannels, bias: bias, mask: nil)
    }

    /// diffSrc = convᵀ(relu'(out) ⊙ diffDst), where `out` is the forward pass's output (the
    /// ReLU's derivative is 1 where it is positive).
    package func backwardData(diffDst: UnsafePointer<Float>, out: UnsafePointer<Float>, diffSrc: UnsafeMutablePointer<Float>) {
        run(src: diffDst, channelsIn: outChannels, dst: diffSrc, channelsOut: inChannels, bias: nil, mask: out)
    }

    private func run(src: UnsafePointer<Float>, channelsIn: Int, dst: UnsafeMutablePointer<Float>, channelsOut: Int,
                     bias: UnsafePointer<Float>?, mask: UnsafePointer<Float>?) {
        let backward = mask != nil
        let mm = memories
        let (v, u, m) = backward ? (mm.vBack, mm.uBack, mm.mBack) : (mm.v, mm.u, mm.m)
        let p = Pointers(src: src, dst: dst, bias: bias, mask: mask,
                         v: v.pointer.assumingMemoryBound(to: Float.self), m: m.pointer.assumingMemoryBound(to: Float.self))
        let group = 8
        for first in stride(from: 0, to: tiles, by: chunk) {
            let count = min(chunk, tiles - first)
            // Each iteration transforms its own few tiles.
            OpenMPParallel.forEach((count + group - 1) / group) { g in
                for t in (g * group)..<min(count, (g + 1) * group) {
                    self.inputTransform(tile: first + t, slot: t, src: p.src, channels: channelsIn, mask: p.mask, v: p.v,
                                        permuted: backward)
                }
            }
            context.execute(backward ? backwardProducts : forwardProducts,
                            [(DNNL_ARG_SRC, v), (DNNL_ARG_WEIGHTS, u), (DNNL_ARG_DST, m)])
            OpenMPParallel.forEach((count + group - 1) / group) { g in
                for t in (g * group)..<min(count, (g + 1) * group) {
                    self.outputTransform(tile: first + t, slot: t, m: p.m, channels: channelsOut, dst: p.dst, bias: p.bias,
                                         permuted: backward)
                }
            }
        }
    }

    /// Offset of (image n, channel c — a multiple of 8 —, 0, 0) in the blocked layout; pixel
    /// (y, x) is `(y · width + x) · block` further.
    @inline(__always)
    private func base(_ n: Int, _ c: Int, channels: Int) -> Int {
        (n * (channels / block) + c / block) * height * width * block + c % block
    }

    /// Where transformed cell (r, c) lives among the 16 products: r·4 + c, or with rows and
    /// columns 0 and 3 exchanged in the backward pass (whose kernel is U_{P(k)}ᵀ).
    @inline(__always)
    private static func slot(_ r: Int, _ c: Int, permuted: Bool) -> Int {
        guard permuted else { return 4 * r + c }
        let p = (3 as Int, 1 as Int, 2 as Int, 0 as Int)
        func q(_ i: Int) -> Int { i == 0 ? p.0 : i == 3 ? p.3 : i }
        return 4 * q(r) + q(c)
    }

    /// V = Bᵀ d B for one 4×4 input tile, 8 channels at a time, with
    /// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
    private func inputTransform(tile: Int, slot t: Int, src: UnsafePointer<Float>, channels: Int, mask: UnsafePointer<Float>?,
                                v: UnsafeMutablePointer<Float>, permuted: Bool) {
        let (n, rest) = tile.quotientAndRemainder(dividingBy: tilesY * tilesX)
        let (ty, tx) = rest.quotientAndRemainder(dividingBy: tilesX)
        let stride = Self.slotStride(chunk: chunk, channels: channels)
        let (y0, x0) = (2 * ty - 1, 2 * tx - 1)
        for c in Swift.stride(from: 0, to: channels, by: 8) {
            let origin = base(n, c, channels: channels)
            @inline(__always) func load(_ i: Int, _ j: Int) -> SIMD8<Float> {
                let (y, x) = (y0 + i, x0 + j)
                guard y >= 0, x >= 0, y < height, x < width else { return .zero }
                let at = origin + (y * width + x) * block
                let value = UnsafeRawPointer(src + at).loadUnaligned(as: SIMD8<Float>.self)
                guard let mask else { return value }
                return value.replacing(with: 0, where: UnsafeRawPointer(mask + at).loadUnaligned(as: SIMD8<Float>.self) .<= 0)
            }
            @inline(__always) func row(_ i: Int) -> Quad { Quad(load(i, 0), load(i, 1), load(i, 2), load(i, 3)) }
            let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3))
            let out = v + t * channels + c
            @inline(__always) func store(_ i: Int, _ t: Quad) {
                @inline(__always) func put(_ j: Int, _ value: SIMD8<Float>) {
                    UnsafeMutableRawPointer(out + Self.slot(i, j, permuted: permuted) * stride).storeBytes(of: value, as: SIMD8<Float>.self)
                }
                put(0, t.a - t.c)
                put(1, t.b + t.c)
                put(2, t.c - t.b)
                put(3, t.b - t.d)
            }
            store(0, d0 - d2)
            store(1, d1 + d2)
            store(2, d2 - d1)
            store(3, d1 - d3)
        }
    }

    /// Y = Aᵀ m A for one tile, with Aᵀ = [1 1 1 0; 0 1 −1 −1]; bias and ReLU (forward) on the
    /// way out; cells beyond an odd edge are dropped.
    private func outputTransform(tile: Int, slot t: Int, m: UnsafePointer<Float>, channels: Int, dst: UnsafeMutablePointer<Float>,
                                 bias: UnsafePointer<Float>?, permuted: Bool) {
        let (n, rest) = tile.quotientAndRemainder(dividingBy: tilesY * tilesX)
        let (ty, tx) = rest.quotientAndRemainder(dividingBy: tilesX)
        let stride = Self.slotStride(chunk: chunk, channels: channels)
        let x = 2 * tx
        for c in Swift.stride(from: 0, to: channels, by: 8) {
            let origin = base(n, c, channels: channels)
            let b = bias.map { UnsafeRawPointer($0 + c).loadUnaligned(as: SIMD8<Float>.self) } ?? .zero
            let from = m + t * channels + c
            @inline(__always) func cell(_ r: Int, _ j: Int) -> SIMD8<Float> {
                UnsafeRawPointer(from + Self.slot(r, j, permuted: permuted) * stride).loadUnaligned(as: SIMD8<Float>.self)
            }
            @inline(__always) func row(_ r: Int) -> Quad { Quad(cell(r, 0), cell(r, 1), cell(r, 2), cell(r, 3)) }
            let (m0, m1, m2, m3) = (row(0), row(1), row(2), row(3))
            @inline(__always) func store(_ i: Int, _ s: Quad) {
                let y = 2 * ty + i
                guard y < height else { return }
                var left = s.a + s.b + s.c + b, right = s.b - s.c - s.d + b
                if bias != nil {
                    left.replace(with: 0, where: left .< 0)
                    right.replace(with: 0, where: right .< 0)
                }
                UnsafeMutableRawPointer(dst + origin + (y * width + x) * block).storeBytes(of: left, as: SIMD8<Float>.self)
                if x + 1 < width {
                    UnsafeMutableRawPointer(dst + origin + (y * width + x + 1) * block).storeBytes(of: right, as: SIMD8<Float>.self)
                }
            }
            store(0, m0 + m1 + m2)
            store(1, m1 - m2 - m3)
        }
    }
}

/// The buffers of one `run`, handed to its workers (which write disjoint parts).
private struct Pointers: @unchecked Sendable {
    let src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>
    let bias: UnsafePointer<Float>?, mask: UnsafePointer<Float>?
    let v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
}

/// Four 8-channel vectors: one row (or column) of a 4×4 tile, with the arithmetic the
/// transforms apply to whole rows.
private struct Quad {
    var a: SIMD8<Float>, b: SIMD8<Float>, c: SIMD8<Float>, d: SIMD8<Float>
    @inline(__always) init(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) { (self.a, self.b, self.c, self.d) = (a, b, c, d) }
    @inline(__always) static func + (l: Quad, r: Quad) -> Quad { Quad(l.a + r.a, l.b + r.b, l.c + r.c, l.d + r.d) }
    @inline(__always) static func - (l: Quad, r: Quad) -> Quad { Quad(l.a - r.a, l.b - r.b, l.c - r.c, l.d - r.d) }
}
