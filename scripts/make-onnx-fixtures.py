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


def fixture(name, nodes, inputs, outputs, initializers=(), opset=17, tolerance=1e-4, note="", qlinear_convs=0):
    """inputs: list of (name, array); outputs: list of names. Runs onnxruntime and saves all.
    qlinear_convs: the reference is onnxruntime's integer QLinearConv (its QDQ fusion, int8
    activations allowed), which must replace that many Conv nodes."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8

    options = ort.SessionOptions()
    if qlinear_convs:
        options.add_session_config_entry("session.qdqisint8allowed", "1")
        options.optimized_model_filepath = os.path.join(out_dir, name + ".optimized.tmp")
    else:
        # Unoptimised: onnxruntime's own fusions would round differently from the plain operators.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    if qlinear_convs:
        optimized = onnx.load(options.optimized_model_filepath)
        os.remove(options.optimized_model_filepath)
        found = sum(n.op_type == "QLinearConv" for n in optimized.graph.node)
        assert found == qlinear_convs, f"{name}: onnxruntime made {found} QLinearConv, expected {qlinear_convs}: {[n.op_type for n in optimized.graph.node]}"
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

# Quantized convolutions as TensorFlow Lite conversions write them, referenced against onnxruntime's
# integer QLinearConv (exact int32 sums, one requantization): the executor computes them the same
# way, so the results must be identical. An NHWC picture → reflect Pad → Quantize → Transpose →
# Dequantize → Conv 3×3 (per-channel int8 weights, int32 bias) → Relu → Q/DQ (int8, zero −128);
# → Pad → Q/DQ on the same grid → Conv stride 2 (a zero bias) → Q/DQ; → nearest ×2 → edge Pad →
# Q/DQ on the same grid → Conv 3×3 with its own zero padding and per-tensor weights → Q/DQ (zero
# point 3); → Q/DQ on another grid (uint8, zero point 120) → Conv → uint8 Q/DQ (zero point 100).
# (onnxruntime keeps a Relu before a zero point above the code range's floor as float FusedConv.)
def qconv(p, x, scale, zero, w, w_scale, bias, out_scale, out_zero, relu=False, **conv):
    """Q/DQ of x, Conv with dequantized int8 weights and int32 bias, [Relu], Q/DQ → p + "_y"."""
    inits = [const(p + "_s", np.float32(scale)), const(p + "_z", zero), const(p + "_w", w),
             const(p + "_ws", np.asarray(w_scale, np.float32)), const(p + "_wz", np.zeros(np.size(w_scale), np.int8)),
             const(p + "_os", np.float32(out_scale)), const(p + "_oz", out_zero)]
    nodes = [N("DequantizeLinear", [p + "_w", p + "_ws", p + "_wz"], [p + "_wd"], axis=0)]
    ins = [p + "_xd", p + "_wd"]
    if bias is not None:
        sb = (np.float32(scale) * np.asarray(w_scale, np.float32)).astype(np.float32) * np.ones(w.shape[0], np.float32)
        inits += [const(p + "_b", bias), const(p + "_bs", sb), const(p + "_bz", np.zeros(w.shape[0], np.int32))]
        nodes.append(N("DequantizeLinear", [p + "_b", p + "_bs", p + "_bz"], [p + "_bd"], axis=0))
        ins.append(p + "_bd")
    nodes += [N("QuantizeLinear", [x, p + "_s", p + "_z"], [p + "_xq"]),
              N("DequantizeLinear", [p + "_xq", p + "_s", p + "_z"], [p + "_xd"]),
              N("Conv", ins, [p + "_c"], **conv)]
    last = p + "_c"
    if relu:
        nodes.append(N("Relu", [last], [p + "_r"]))
        last = p + "_r"
    nodes += [N("QuantizeLinear", [last, p + "_os", p + "_oz"], [p + "_q"]),
              N("DequantizeLinear", [p + "_q", p + "_os", p + "_oz"], [p + "_y"])]
    return nodes, inits

def int8_weights(*shape):
    return rng.integers(-127, 128, size=shape).astype(np.int8)

picture = rng.random((1, 9, 11, 3)).astype(np.float32)
first_nodes, first_inits = qconv("a", "ap", 1 / 255, np.int8(-128), int8_weights(6, 3, 3, 3), np.abs(rand(6)) * 0.004 + 0.001,
                                 rng.integers(-3000, 3000, size=6).astype(np.int32), 0.06, np.int8(-128), relu=True, kernel_shape=[3, 3])
# The picture's quantization happens in NHWC, before the Transpose (as in arbitrary_transform.onnx).
first_nodes[2:4] = [N("QuantizeLinear", ["ap", "a_s", "a_z"], ["a_xq_nhwc"]),
                    N("Transpose", ["a_xq_nhwc"], ["a_xq"], perm=[0, 3, 1, 2]),
                    N("DequantizeLinear", ["a_xq", "a_s", "a_z"], ["a_xd"])]
second_nodes, second_inits = qconv("b", "bp", 0.06, np.int8(-128), int8_weights(8, 6, 3, 3), np.abs(rand(8)) * 0.01 + 0.002,
                                   np.zeros(8, np.int32), 0.1, np.int8(-7), kernel_shape=[3, 3], strides=[2, 2])
third_nodes, third_inits = qconv("c", "cp", 0.1, np.int8(-7), int8_weights(4, 8, 3, 3), [0.004],
                                 rng.integers(-500, 500, size=4).astype(np.int32), 0.05, np.int8(3),
                                 kernel_shape=[3, 3], pads=[1, 0, 1, 2])
off_grid_nodes, off_grid_inits = qconv("d", "c_y", 0.08, np.uint8(120), int8_weights(3, 4, 3, 3), np.abs(rand(3)) * 0.01 + 0.002,
                                       rng.integers(-500, 500, size=3).astype(np.int32), 0.07, np.uint8(100), kernel_shape=[3, 3])
fixture("qlinear_conv_chain", [
    N("Pad", ["x", "pads_nhwc"], ["ap"], mode="reflect"), *first_nodes,
    N("Pad", ["a_y", "pads1"], ["bp"], mode="reflect"), *second_nodes,
    N("Resize", ["b_y", "", "scales2"], ["up"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    N("Pad", ["up", "pads1"], ["cp"], mode="edge"), *third_nodes, *off_grid_nodes,
    N("Identity", ["d_y"], ["y"]),
], [("x", picture)], ["y", "a_y"],
   [const("pads_nhwc", np.array([0, 1, 1, 0, 0, 1, 1, 0], np.int64)), pads1,
    const("scales2", np.array([1, 1, 2, 2], np.float32)), *first_inits, *second_inits, *third_inits, *off_grid_inits],
   tolerance=0, qlinear_convs=4, note="int8 convolutions: identical to onnxruntime's QLinearConv")

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

# The whole int8 arbitrary-style transform (from the models cache) on the reference picture with
# every convolution as onnxruntime's integer QLinearConv. ../shared/reference/onnx holds its
# default run, where 41 of the 42 convolutions stay float Conv on dequantized values (TensorFlow
# Lite shares one zero bias between the residual convolutions, which stops the QDQ fusion, and
# int8 activations are not fused on x86 by default); float sums flip a rounding now and then and
# the instance norms spread each flip over a channel, so the two runs of onnxruntime differ by a
# mean 0.025. Here each convolution gets its own bias, so all 42 are fused. Saved as the output's
# 8-bit codes: the output is (code + 128)/256.
models = os.path.join(os.environ.get("STYLIZE_CACHE") or os.path.expanduser("~/.cache/stylize"), "models")
reference = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "onnx")
transform_path = os.path.join(models, "arbitrary_transform.onnx")
if os.path.exists(transform_path) and os.path.isdir(reference):
    from PIL import Image
    m = onnx.load(transform_path)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    readers = {}
    for n in g.node:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    copies = []
    for n in g.node:
        if n.op_type == "Conv" and len(n.input) > 2 and readers[n.input[2]] > 1:
            bias_codes = inits[producer[n.input[2]].input[0]]
            sx = inits[producer[n.input[0]].input[1]]
            sw = inits[producer[n.input[1]].input[1]]
            p = f"bias_of_conv_{len(copies)}"
            g.initializer.extend([const(p + "_q", bias_codes), const(p + "_s", (sx * sw).astype(np.float32)),
                                  const(p + "_z", np.zeros_like(bias_codes))])
            copies.append(N("DequantizeLinear", [p + "_q", p + "_s", p + "_z"], [p], axis=0))
            n.input[2] = p
    nodes = copies + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdqisint8allowed", "1")
    options.optimized_model_filepath = os.path.join(out_dir, "transform.optimized.tmp")
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    optimized = onnx.load(options.optimized_model_filepath)
    os.remove(options.optimized_model_filepath)
    assert sum(n.op_type == "QLinearConv" for n in optimized.graph.node) == 42
    picture = np.asarray(Image.open(os.path.join(reference, "content_384.png")).convert("RGB"), np.float32)[None] / 255
    vector = np.fromfile(os.path.join(reference, "arbitrary_predict_style_vector.f32"), "<f4").reshape(1, 1, 1, 100)
    y = session.run(None, {"content_image": picture, "mobilenet_conv/Conv/BiasAdd": vector})[0]
    codes = np.round(y * 256)
    assert np.array_equal(codes / 256, y) and codes.min() >= 0 and codes.max() <= 255
    codes.astype(np.uint8).tofile(os.path.join(out_dir, "arbitrary_transform_integer_convs.u8"))
    # The same at another size, as fully convolutional (the picture's dimensions made symbolic):
    # the 96×64 reference picture, for ONNXModel's anyPictureSize.
    for value in (g.input[0], g.output[0]):
        dims = value.type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "h", "w"
    del g.value_info[:]
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    os.remove(options.optimized_model_filepath)
    small = np.asarray(Image.open(os.path.join(reference, "content_96x64.png")).convert("RGB"), np.float32)[None] / 255
    y = session.run(None, {"content_image": small, "mobilenet_conv/Conv/BiasAdd": vector})[0]
    codes = np.round(y * 256)
    assert y.shape == (1, 64, 96, 3) and np.array_equal(codes / 256, y)
    codes.astype(np.uint8).tofile(os.path.join(out_dir, "arbitrary_transform_integer_convs_96x64.u8"))
    # The style predictor likewise: onnxruntime's default run keeps 17 of its 53 convolutions
    # float (int8 activations are not fused on x86 by default); with int8 allowed, all 53 are
    # QLinearConv. Saved as the 100 floats of the style vector.
    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdqisint8allowed", "1")
    options.optimized_model_filepath = os.path.join(out_dir, "predict.optimized.tmp")
    session = ort.InferenceSession(os.path.join(models, "arbitrary_predict.onnx"), options, providers=["CPUExecutionProvider"])
    optimized = onnx.load(options.optimized_model_filepath)
    os.remove(options.optimized_model_filepath)
    assert sum(n.op_type == "QLinearConv" for n in optimized.graph.node) == 53
    style = np.asarray(Image.open(os.path.join(reference, "style_256.png")).convert("RGB"), np.float32)[None] / 255
    session.run(None, {"style_image": style})[0].astype("<f4").tofile(os.path.join(out_dir, "arbitrary_predict_integer_convs.f32"))
else:
    print(f"skipped the arbitrary networks' integer references: no {transform_path} or {reference}")

with open(os.path.join(out_dir, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(f"{len(manifest)} fixtures in {out_dir}")
