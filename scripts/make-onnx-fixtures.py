"""Per-operator parity fixtures for StylizeONNX: small ONNX models built with onnx.helper, one
per operator/attribute combination the executor supports, with inputs and onnxruntime's outputs.

    bash scripts/make-onnx-fixtures.sh       # makes the venv, then runs this

Writes Tests/StylizeONNXTests/Fixtures/: NAME.onnx, NAME.in.f32 / NAME.out.f32 (little-endian
float32, the inputs and outputs concatenated in order) and manifest.json (names, shapes,
tolerance). The files are committed: the Swift tests read them and need no Python. Inputs come
from a fixed seed, so rerunning reproduces the same files.
"""
import json, os, sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "StylizeONNXTests", "Fixtures")
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(7)
manifest = []


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def rand(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def fixture(name, nodes, inputs, outputs, initializers=(), opset=17, tolerance=1e-4, note=""):
    """inputs: list of (name, array); outputs: list of names. Runs onnxruntime and saves all."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8

    options = ort.SessionOptions()
    # Unoptimised: onnxruntime's own fusions would round differently from the plain operators.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    results = session.run(outputs, {n: a for n, a in inputs})
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))
    with open(os.path.join(out_dir, name + ".in.f32"), "wb") as f:
        for _, a in inputs:
            f.write(a.astype("<f4").tobytes())
    with open(os.path.join(out_dir, name + ".out.f32"), "wb") as f:
        for r in results:
            f.write(np.asarray(r, dtype="<f4").tobytes())
    manifest.append({
        "name": name, "note": note, "tolerance": tolerance,
        "inputs": [{"name": n, "shape": list(a.shape)} for n, a in inputs],
        "outputs": [{"name": n, "shape": list(np.asarray(r).shape)} for n, r in zip(outputs, results)],
    })


N = helper.make_node
x4 = rand(1, 4, 7, 9)

# Convolution blocks as PyTorch exports them (the fused path): reflect Pad → Conv → instance norm
# as primitive ops → conditional scale/shift → Relu; a residual block; nearest ×2 → … → Sigmoid.
def norm_nodes(p, x, gamma, beta, out):
    return [
        N("ReduceMean", [x], [p + "_m"], axes=[2, 3], keepdims=1),
        N("Sub", [x, p + "_m"], [p + "_c"]),
        N("Pow", [p + "_c", "two"], [p + "_sq"]),
        N("ReduceMean", [p + "_sq"], [p + "_v"], axes=[2, 3], keepdims=1),
        N("Add", [p + "_v", "eps"], [p + "_ve"]),
        N("Sqrt", [p + "_ve"], [p + "_sd"]),
        N("Div", ["one", p + "_sd"], [p + "_inv"]),
        N("Mul", [p + "_c", p + "_inv"], [p + "_n"]),
        N("Mul", [p + "_n", gamma], [p + "_g"]),
        N("Add", [p + "_g", beta], [out]),
    ]

pads1 = const("pads1", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))
pads4 = const("pads4", np.array([0, 0, 4, 4, 0, 0, 4, 4], np.int64))
block_inits = [pads1, pads4, const("two", np.float32(2)), const("eps", np.float32(1e-5)), const("one", np.float32(1)),
               const("wa", rand(8, 4, 3, 3, scale=0.3)), const("wb", rand(8, 8, 3, 3, scale=0.2)),
               const("wc", rand(3, 8, 9, 9, scale=0.05)), const("bc", rand(3)),
               const("ga", rand(1, 8, 1, 1)), const("ba", rand(1, 8, 1, 1)),
               const("gb", rand(1, 8, 1, 1)), const("bb", rand(1, 8, 1, 1)),
               const("gc", rand(1, 3, 1, 1)), const("bcc", rand(1, 3, 1, 1)),
               const("scales2", np.array([1, 1, 2, 2], np.float32))]
fixture("conv_blocks_pytorch", [
    N("Pad", ["x", "pads1"], ["pa"], mode="reflect"),
    N("Conv", ["pa", "wa"], ["ya"], kernel_shape=[3, 3]),
    *norm_nodes("a", "ya", "ga", "ba", "na"),
    N("Relu", ["na"], ["ra"]),
    N("Pad", ["ra", "pads1"], ["pb"], mode="reflect"),
    N("Conv", ["pb", "wb"], ["yb"], kernel_shape=[3, 3]),
    *norm_nodes("b", "yb", "gb", "bb", "nb"),
    N("Add", ["ra", "nb"], ["res"]),
    N("Resize", ["res", "", "scales2"], ["up"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    N("Pad", ["up", "pads4"], ["pc"], mode="reflect"),
    N("Conv", ["pc", "wc", "bc"], ["yc"], kernel_shape=[9, 9]),
    *norm_nodes("c", "yc", "gc", "bcc", "nc"),
    N("Sigmoid", ["nc"], ["y"]),
], [("x", x4)], ["y", "res"], block_inits, note="fused: reflect pad, PyTorch instance norm, residual, nearest x2, sigmoid")

fixture("conv_in_relu_edge_stride2", [
    N("Pad", ["x", "pads1"], ["p"], mode="edge"),
    N("Conv", ["p", "w", "b"], ["c"], kernel_shape=[3, 3], strides=[2, 2]),
    N("InstanceNormalization", ["c", "s", "t"], ["n"], epsilon=1e-3),
    N("Relu", ["n"], ["y"]),
], [("x", x4)], ["y"], [pads1, const("w", rand(6, 4, 3, 3, scale=0.3)), const("b", rand(6)), const("s", rand(6)), const("t", rand(6))],
   note="fused: edge pad, stride 2, InstanceNormalization")

fixture("conv_group_dilation_pads", [
    N("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], group=2, dilations=[2, 1], pads=[2, 1, 1, 0], strides=[1, 2]),
], [("x", x4)], ["y"], [const("w", rand(6, 2, 3, 3)), const("b", rand(6))])

fixture("conv_same_upper", [N("Conv", ["x", "w"], ["y"], kernel_shape=[4, 4], auto_pad="SAME_UPPER", strides=[2, 2])],
        [("x", x4)], ["y"], [const("w", rand(5, 4, 4, 4))])

fixture("conv_transpose", [
    N("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
], [("x", x4)], ["y"], [const("w", rand(4, 3, 3, 3)), const("b", rand(3))])

fixture("batch_norm", [N("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
        [("x", x4)], ["y"], [const("s", rand(4)), const("b", rand(4)), const("m", rand(4)), const("v", np.abs(rand(4)) + 0.5)])

fixture("instance_norm", [N("InstanceNormalization", ["x", "s", "b"], ["y"])],
        [("x", rand(2, 3, 5, 6, scale=3))], ["y"], [const("s", rand(3)), const("b", rand(3))])

for mode, ctm, extra in [("linear", "half_pixel", {}), ("linear", "align_corners", {}), ("linear", "pytorch_half_pixel", {}),
                         ("linear", "asymmetric", {}), ("nearest", "half_pixel", {"nearest_mode": "round_prefer_ceil"}),
                         ("nearest", "asymmetric", {"nearest_mode": "floor"})]:
    fixture(f"resize_{mode}_{ctm}", [N("Resize", ["x", "", "scales"], ["y"], mode=mode, coordinate_transformation_mode=ctm, **extra)],
            [("x", x4)], ["y"], [const("scales", np.array([1, 1, 1.5, 2.5], np.float32))])
fixture("resize_sizes_linear", [N("Resize", ["x", "", "", "sizes"], ["y"], mode="linear")],
        [("x", x4)], ["y"], [const("sizes", np.array([1, 4, 5, 13], np.int64))])
fixture("upsample_nearest_opset9", [N("Upsample", ["x", "scales"], ["y"], mode="nearest")],
        [("x", x4)], ["y"], [const("scales", np.array([1, 1, 2, 3], np.float32))], opset=9)

for mode in ["constant", "reflect", "edge"]:
    fixture(f"pad_{mode}", [N("Pad", ["x", "pads", "value"], ["y"], mode=mode)], [("x", x4)], ["y"],
            [const("pads", np.array([0, 1, 2, 3, 0, 0, 1, 2], np.int64)), const("value", np.float32(0.5))])

fixture("gemm_transposed", [N("Gemm", ["a", "b", "c"], ["y"], alpha=0.5, beta=2.0, transB=1)],
        [("a", rand(3, 5))], ["y"], [const("b", rand(4, 5)), const("c", rand(1, 4))])
fixture("matmul_batched", [N("MatMul", ["a", "b"], ["y"])], [("a", rand(2, 3, 5)), ("b", rand(5, 4))], ["y"])

fixture("gather_squeeze_slice_steps", [
    N("Gather", ["x", "idx"], ["g"], axis=1),
    N("Slice", ["g", "starts", "ends", "axes", "steps"], ["s"]),
    N("Squeeze", ["s", "sqaxes"], ["y"]),
], [("x", x4)], ["y"], [const("idx", np.array([3, 0, 2], np.int64)), const("starts", np.array([0, -1, 8], np.int64)),
                        const("ends", np.array([1, -100, 0], np.int64)), const("axes", np.array([1, 2, 3], np.int64)),
                        const("steps", np.array([1, -2, -3], np.int64)), const("sqaxes", np.array([1], np.int64))])

fixture("cast_transpose_concat_reshape", [
    N("Mul", ["x", "k"], ["m"]),
    N("Cast", ["m"], ["i"], to=TensorProto.INT32),
    N("Cast", ["i"], ["f"], to=TensorProto.FLOAT),
    N("Transpose", ["f"], ["t"], perm=[0, 2, 3, 1]),
    N("Concat", ["t", "t"], ["c"], axis=3),
    N("Reshape", ["c", "shape"], ["y"]),
], [("x", x4)], ["y"], [const("k", np.float32(3)), const("shape", np.array([7, -1], np.int64))])

fixture("elementwise_broadcast", [
    N("Sub", ["x", "row"], ["a"]), N("Div", ["a", "col"], ["b"]), N("Max", ["b", "x"], ["c"]),
    N("Tanh", ["c"], ["d"]), N("Clip", ["d", "lo", "hi"], ["e"]), N("LeakyRelu", ["e"], ["y"], alpha=0.2),
    N("ReduceSum", ["x", "axes"], ["s"], keepdims=0), N("GlobalAveragePool", ["x"], ["gap"]),
], [("x", x4)], ["y", "s", "gap"], [const("row", rand(9)), const("col", np.abs(rand(1, 4, 7, 1)) + 0.5),
                                     const("lo", np.float32(-0.5)), const("hi", np.float32(0.7)), const("axes", np.array([1, 3], np.int64))])

# Quantize/dequantize: per tensor (uint8, with a zero point) on the activation, per output channel
# (int8 weights, axis 0) on the convolution's weights, as TensorFlow Lite conversions write them.
wq = rng.integers(-127, 128, size=(5, 4, 3, 3)).astype(np.int8)
fixture("qdq_per_tensor_and_per_axis", [
    N("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
    N("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
    N("DequantizeLinear", ["wq", "ws"], ["w"], axis=0),
    N("Conv", ["xd", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    N("QuantizeLinear", ["c", "cs", "cz"], ["cq"]),
    N("DequantizeLinear", ["cq", "cs", "cz"], ["y"]),
], [("x", x4)], ["y"], [const("xs", np.float32(0.02)), const("xz", np.uint8(128)), const("wq", wq),
                        const("ws", (np.abs(rand(5)) * 0.01 + 0.002).astype(np.float32)),
                        const("cs", np.float32(0.05)), const("cz", np.int8(3))],
   tolerance=0.0501, note="int8: one quantization step (0.05) of the output")

# Models the executor must refuse at load, naming the operator or the attribute (not run here).
def refused(name, node, opset=19):
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 7, 9])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out_dir, name + ".onnx"))

refused("refused_operator", N("Einsum", ["x"], ["y"], name="einsum_node", equation="nchw->nchw"))
refused("refused_attribute", N("Pad", ["x", "pads"], ["y"], name="wrap_pad", mode="wrap"))

with open(os.path.join(out_dir, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(f"{len(manifest)} fixtures in {out_dir}")
