"""Runs an ONNX model in onnxruntime, for the tests that compare Stylize's executor with it
(Tests/StylizeONNXTests/TransformerNetExportTests.swift); the Python is the one
scripts/install-onnxruntime.sh installs.

Usage: run-onnxruntime.py FOLDER, where FOLDER/cases.json is
    {"model": "model.onnx", "cases": [{"inputs": [{"name": "input", "shape": [1, 3, 32, 48], "file": "x.f32"}]}]}
and each input file holds float32 little-endian values. Writes FOLDER/case<i>.<output>.f32 and
FOLDER/results.json with each case's output shapes and the model's producer, opset and metadata.
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
shapes = []
for i, case in enumerate(spec["cases"]):
    feeds = {t["name"]: np.fromfile(os.path.join(folder, t["file"]), dtype="<f4").reshape(t["shape"])
             for t in case["inputs"]}
    outputs = session.run(None, feeds)
    shapes.append({})
    for meta, value in zip(session.get_outputs(), outputs):
        value.astype("<f4").tofile(os.path.join(folder, f"case{i}.{meta.name}.f32"))
        shapes[i][meta.name] = list(value.shape)

with open(os.path.join(folder, "results.json"), "w") as f:
    json.dump({
        "producer": model.producer_name,
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")],
        "metadata": {p.key: p.value for p in model.metadata_props},
        "outputs": shapes,
    }, f)
