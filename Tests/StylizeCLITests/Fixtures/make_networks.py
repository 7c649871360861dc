"""Makes the two small ONNX networks the `stylize fast --model` tests run (committed, a few KB each).

    python make_networks.py          # needs onnx, onnxruntime, numpy and pillow; writes next to this file

- tiny_johnson.onnx: the shape of Johnson et al.'s fast-neural-style networks as PyTorch exports
  them: one NCHW input of any height and width in 0-255, reflect Pad, strided Conv,
  InstanceNormalization, Relu, nearest Resize ×2, Conv, Add back the input; output 0-255.
- tiny_fixed_nhwc.onnx: a network converted from TensorFlow with a fixed 1×64×64×3 NHWC input in
  [0, 1] (Transpose, reflect Pad, Conv, Sigmoid, Transpose), which Stylize runs in tiles.
Weights are random from a fixed seed: these check the plumbing, not the art.
Also writes tiny_johnson_expected.png: onnxruntime's output for
../shared/reference/onnx/content_96x64.png (0-255 in, clipped and rounded out), which the test
compares with `stylize fast --model tiny_johnson.onnx`.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(4)
c = lambda name, a: numpy_helper.from_array(np.asarray(a), name)


def johnson():
    inits = [
        c("pad1", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
        c("w1", (rng.standard_normal((8, 3, 3, 3)) * 0.02).astype(np.float32)),
        c("b1", np.zeros(8, np.float32)),
        c("gamma", np.ones(8, np.float32)), c("beta", np.full(8, 0.1, np.float32)),
        c("roi", np.array([], np.float32)), c("scales", np.array([1, 1, 2, 2], np.float32)),
        c("w2", (rng.standard_normal((3, 8, 3, 3)) * 10).astype(np.float32)),
        c("b2", np.zeros(3, np.float32)),
    ]
    nodes = [
        helper.make_node("Pad", ["input1", "pad1"], ["p1"], mode="reflect"),
        helper.make_node("Conv", ["p1", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("InstanceNormalization", ["c1", "gamma", "beta"], ["n1"], epsilon=1e-5),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Resize", ["r1", "roi", "scales"], ["u1"], mode="nearest"),
        helper.make_node("Pad", ["u1", "pad1"], ["p2"], mode="reflect"),
        helper.make_node("Conv", ["p2", "w2", "b2"], ["c2"], kernel_shape=[3, 3]),
        helper.make_node("Add", ["c2", "input1"], ["output1"]),
    ]
    graph = helper.make_graph(nodes, "tiny_johnson",
                              [helper.make_tensor_value_info("input1", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info("output1", TensorProto.FLOAT, [1, 3, "h", "w"])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def fixed_nhwc():
    inits = [
        c("pad", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
        c("w", (rng.standard_normal((3, 3, 3, 3)) * 0.5).astype(np.float32)),
        c("b", np.zeros(3, np.float32)),
    ]
    nodes = [
        helper.make_node("Transpose", ["content"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Pad", ["nchw", "pad"], ["p"], mode="reflect"),
        helper.make_node("Conv", ["p", "w", "b"], ["y"], kernel_shape=[3, 3]),
        helper.make_node("Sigmoid", ["y"], ["s"]),
        helper.make_node("Transpose", ["s"], ["stylized"], perm=[0, 2, 3, 1]),
    ]
    graph = helper.make_graph(nodes, "tiny_fixed_nhwc",
                              [helper.make_tensor_value_info("content", TensorProto.FLOAT, [1, 64, 64, 3])],
                              [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, [1, 64, 64, 3])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


for name, model in [("tiny_johnson", johnson()), ("tiny_fixed_nhwc", fixed_nhwc())]:
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(here, name + ".onnx"))
    print("wrote", name + ".onnx")

import onnxruntime as ort
from PIL import Image
photo = Image.open(os.path.join(here, "../../../../shared/reference/onnx/content_96x64.png")).convert("RGB")
x = np.asarray(photo, np.float32).transpose(2, 0, 1)[None]
y = ort.InferenceSession(os.path.join(here, "tiny_johnson.onnx")).run(None, {"input1": x})[0][0]
Image.fromarray((np.clip(y / 255, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)).save(os.path.join(here, "tiny_johnson_expected.png"))
print("wrote tiny_johnson_expected.png")
