"""onnxruntime's twin of stylize-fast-bench: one network at one size, timed the same way.

    python onnxruntime_fast.py --model multistyle26 --size 1024x768 [--threads 2] [--runs 5]
                               [--models DIR]

Prints one JSON line: impl, model, size, median seconds over --runs after one warm-up (session
creation excluded), and the process's peak resident memory. One network and one size per process,
so that the peak belongs to that measurement alone (scripts/bench-fast.sh alternates these runs
with Stylize's). Inputs are random, as in stylize-fast-bench: the networks' cost does not depend
on the pixel values.

arbitrary_transform.onnx declares a fixed 1x384x384x3 input although its graph is fully
convolutional; for other sizes its input and output dims are made symbolic (in memory, with the
onnx package) so that onnxruntime accepts them, which is what Stylize runs too.
Needs: onnxruntime, numpy, onnx.
"""
import argparse, json, os, resource, statistics, time

import numpy as np
import onnxruntime as ort


def session(path, threads, dynamic_hw=False):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.log_severity_level = 3
    model = path
    if dynamic_hw:
        import onnx
        m = onnx.load(path)
        for value in (m.graph.input[0], m.graph.output[0]):
            dims = value.type.tensor_type.shape.dim
            dims[1].dim_param, dims[2].dim_param = "h", "w"
        del m.graph.value_info[:]
        model = m.SerializeToString()
    return ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])


def timed(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True,
                    help="multistyle26, arbitrary_predict, arbitrary_transform, or a FILE.onnx taking one 0-255 picture")
    ap.add_argument("--size", default="512x384", help="WxH")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", default=os.environ.get("STYLIZE_MODELS") or os.path.join(
        os.environ.get("STYLIZE_CACHE") or os.path.expanduser("~/.cache/stylize"), "models"))
    a = ap.parse_args()
    w, h = map(int, a.size.split("x"))
    path = os.path.join(a.models, a.model + ".onnx")
    rng = np.random.default_rng(0)
    if a.model.endswith(".onnx"):
        s = session(a.model, a.threads)
        feeds = {s.get_inputs()[0].name: rng.random((1, 3, h, w), dtype=np.float32) * 255}
    elif a.model == "multistyle26":
        s = session(path, a.threads)
        weights = np.zeros(26, np.float32); weights[19] = 1
        feeds = {"image": rng.random((1, 3, h, w), dtype=np.float32), "style_weights": weights}
    elif a.model == "arbitrary_predict":
        s = session(path, a.threads)
        feeds = {s.get_inputs()[0].name: rng.random((1, h, w, 3), dtype=np.float32)}
    else:
        s = session(path, a.threads, dynamic_hw=(w, h) != (384, 384))
        names = [i.name for i in s.get_inputs()]
        vector = (rng.random((1, 1, 1, 100), dtype=np.float32) - 0.5)
        feeds = {names[0]: rng.random((1, h, w, 3), dtype=np.float32), names[1]: vector}
    seconds = timed(lambda: s.run(None, feeds), a.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": "onnxruntime " + ort.__version__, "model": os.path.basename(a.model), "size": [w, h],
                      "threads": a.threads, "seconds": seconds, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main()
