/// Which of the executor's fusions a graph gets at load (`ONNXModel`'s `fusion` parameter): all
/// of them by default; the others run operators one by one, to compare with a fused run.
public enum ONNXFusion: Sendable, Equatable {
    /// Quantized convolutions, convolution blocks and elementwise chains.
    case all
    /// Only the quantized convolutions (exact integer sums, as onnxruntime's QLinearConv).
    case quantizedConvolutionsOnly
    /// None: every operator on its own.
    case none
}
