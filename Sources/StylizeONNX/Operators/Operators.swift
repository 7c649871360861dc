/// The operator table: which ONNX operators the executor implements, and the kernel for each.
/// Anything else is refused at load, naming the operator and the node.
enum Operators {
    static func make(_ node: Onnx_NodeProto, _ a: Attributes) throws(ONNXError) -> any Kernel {
        switch node.opType {
        case "Conv": return try ConvKernel(a, transposed: false)
        case "ConvTranspose": return try ConvKernel(a, transposed: true)
        case "InstanceNormalization": return try InstanceNormKernel(a)
        case "BatchNormalization": return try BatchNormKernel(a)
        case "ReduceMean": return try ReduceKernel(.mean, a)
        case "ReduceSum": return try ReduceKernel(.sum, a)
        case "GlobalAveragePool": return try ReduceKernel(.globalAverage, a)
        case "Pad": return try PadKernel(a)
        case "Resize": return try ResizeKernel(a, legacyUpsample: false)
        case "Upsample": return try ResizeKernel(a, legacyUpsample: true)
        case "QuantizeLinear": return try QuantizeKernel(a, dequantize: false)
        case "DequantizeLinear": return try QuantizeKernel(a, dequantize: true)
        case "MatMul": return try MatMulKernel(a, gemm: false)
        case "Gemm": return try MatMulKernel(a, gemm: true)
        case "Constant": return try ConstantKernel(a)
        case "ConstantOfShape": return try ConstantOfShapeKernel(a)
        case "Shape": return try ShapeKernel(a)
        case "Reshape": return try ReshapeKernel(a)
        case "Flatten": return try FlattenKernel(a)
        case "Unsqueeze": return try SqueezeKernel(a, unsqueeze: true)
        case "Squeeze": return try SqueezeKernel(a, unsqueeze: false)
        case "Concat": return try ConcatKernel(a)
        case "Slice": return try SliceKernel(a)
        case "Transpose": return try TransposeKernel(a)
        case "Gather": return try GatherKernel(a)
        case "Cast": return try CastKernel(a)
        default:
            if let op = BinaryKernel.Op(rawValue: node.opType) { return BinaryKernel(op) }
            if let op = UnaryKernel.Op(rawValue: node.opType) { return try UnaryKernel(op, a) }
            throw .unsupportedOperator(node.opType, node: a.node)
        }
    }
}
