"""Runs an ONNX model in onnxruntime, for the tests that compare Stylize's executor with it
(Tests/StylizeONNXTests/TransformerNetExportTests.swift); the Python is the one
scripts/install-onnxruntime.sh installs.

Usage: run-onnxruntime.py FOLDER, where FOLDER/cases.json is
    {"model": "model.onnx", "cases": [{"inputs": [{"name": "input", "shape": [1, 3, 32, 48], "file": "x.f32"}]}]}
and each input file holds float32 little-endian values. Writes FOLDER/case<i>.<output>.f32 and
FOLDER/results.json with each case's output shapes and the model's producer, opset and metadata.
With "transformer_net": {"parameters": "p.f32", "names": [[name, shape], ...], "residual_blocks": R,
"upsampling": "nearest"|"bilinear"} it also writes FOLDER/case<i>.reference.f32, the network's output computed in NumPy from those
parameters (transformer_net_numpy.py; the style weights are the input "style_weights", if any).
The model is first checked with onnx.checker (full check, with shape inference), so a file that
onnxruntime happens to accept but the spec does not fails here.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

folder = sys.argv[1]
with open(os.path.join(folder, "cases.json")) as f:
    spec = json.load(f)
path = os.path.join(folder, spec["model"])
model = onnx.load(path)
onnx.checker.check_model(model, full_check=True)

options = ort.SessionOptions()
options.intra_op_num_threads = 2
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
cases = [{t["name"]: np.fromfile(os.path.join(folder, t["file"]), dtype="<f4").reshape(t["shape"])
          for t in case["inputs"]} for case in spec["cases"]]
shapes = []
for i, feeds in enumerate(cases):
    outputs = session.run(None, feeds)
    shapes.append({})
    for meta, value in zip(session.get_outputs(), outputs):
        value.astype("<f4").tofile(os.path.join(folder, f"case{i}.{meta.name}.f32"))
        shapes[i][meta.name] = list(value.shape)

net = spec.get("transformer_net")
if net:
    from transformer_net_numpy import forward

    flat = np.fromfile(os.path.join(folder, net["parameters"]), dtype="<f4")
    params, offset = {}, 0
    for name, shape in net["names"]:
        n = int(np.prod(shape))
        params[name] = flat[offset:offset + n].reshape(shape).astype(np.float64)
        offset += n
    assert offset == flat.size, "the parameter file holds more values than the names describe"
    for i, feeds in enumerate(cases):
        y = forward(params, feeds["input"], net["residual_blocks"], feeds.get("style_weights"),
                    net.get("upsampling", "nearest"))
        y.astype("<f4").tofile(os.path.join(folder, f"case{i}.reference.f32"))

with open(os.path.join(folder, "results.json"), "w") as f:
    json.dump({
        "producer": model.producer_name,
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")],
        "metadata": {p.key: p.value for p in model.metadata_props},
        "outputs": shapes,
    }, f)
