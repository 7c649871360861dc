import CDNNL
import StylizeTensor

/// How VGG-19 pools: max (as trained), or average (Gatys et al.'s suggestion for smoother results).
public enum Pooling: String, Sendable, CaseIterable, Codable { case max, average }

/// 2×2 pooling with stride 2 (max, or average as Gatys et al. suggest for smoother results),
/// compiled for one input size. Odd sizes round down, as in PyTorch and Caffe's VGG.
package final class Pool2DPlan {
    package let forward: DNNLPrimitive
    package let backward: DNNLPrimitive
    package let dst: dnnl_memory_desc_t
    /// Where max pooling remembers which input won, for its backward pass.
    package let workspace: DNNLMemory?

    package init(pooling: Pooling, src: dnnl_memory_desc_t, channels: Int, height: Int, width: Int, context: DNNLContext) throws(DNNLError) {
        let alg = pooling == .max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding
        var src = src
        var dstAny = DNNLDesc.make([Int(src.dims.0), channels, height / 2, width / 2], dnnl_format_tag_any, src.data_type)
        let k = DNNLDesc.dims([2, 2]), zero = DNNLDesc.dims([0, 0])
        var fwdDesc = dnnl_pooling_desc_t()
        dnnlCheck(dnnl_pooling_forward_desc_init(&fwdDesc, dnnl_forward_training, alg, &src, &dstAny, k, k, zero, zero),
                  "pooling descriptor")
        forward = DNNLPrimitive(pd: try context.primitiveDesc(&fwdDesc, name: "pool"), name: "pool")
        dst = forward.md(dnnl_query_dst_md)
        var dstMD = dst
        var bwdDesc = dnnl_pooling_desc_t()
        dnnlCheck(dnnl_pooling_backward_desc_init(&bwdDesc, alg, &src, &dstMD, k, k, zero, zero), "pooling backward descriptor")
        backward = DNNLPrimitive(pd: try context.primitiveDesc(&bwdDesc, hint: forward, name: "pool backward"), name: "pool backward")
        let ws = forward.md(dnnl_query_workspace_md)
        workspace = DNNLDesc.size(ws) > 0 ? DNNLMemory(ws, context) : nil
    }

    package func runForward(src: DNNLMemory, dst: DNNLMemory, context: DNNLContext) {
        var args = [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst)]
        if let workspace { args.append((DNNL_ARG_WORKSPACE, workspace)) }
        context.execute(forward, args)
    }

    package func runBackward(diffDst: DNNLMemory, diffSrc: DNNLMemory, context: DNNLContext) {
        var args = [(DNNL_ARG_DIFF_DST, diffDst), (DNNL_ARG_DIFF_SRC, diffSrc)]
        if let workspace { args.append((DNNL_ARG_WORKSPACE, workspace)) }
        context.execute(backward, args)
    }
}
