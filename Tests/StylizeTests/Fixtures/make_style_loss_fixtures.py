"""Independent values and gradients of Stylize's five style losses (numpy, float64), for
Tests/StylizeTests/StyleLossTests.swift. Run once; its output, style_losses.json, is committed.

    python3 Tests/StylizeTests/Fixtures/make_style_loss_fixtures.py

Each loss follows the definition in Sources/Stylize/StyleLosses/ (the doc comment of each
target), written here from scratch with numpy: loops where Stylize uses kernels, numpy's sort
where Stylize uses a radix sort, a float64 eigendecomposition where Stylize uses LAPACK in float32.
"""
import json
import os
import numpy as np

rng = np.random.default_rng(15)
C = 6
picture = np.maximum(rng.standard_normal((1, C, 9, 7)), 0) * 3 + 0.1 * rng.standard_normal((1, C, 9, 7))
styles = [np.abs(rng.standard_normal((1, C, 10, 8))) * 2, np.maximum(rng.standard_normal((1, C, 8, 11)), 0) * 4]
weights = [0.7, 0.3]


def flat(f):
    return f.reshape(f.shape[1], -1)


def gram(f):
    x = flat(f)
    return x @ x.T / x.shape[1]


def gram_loss(f):
    target = sum(w * gram(s) for s, w in zip(styles, weights))
    d = gram(f) - target
    c = d.shape[0]
    value = (d ** 2).sum() / c ** 4
    x = flat(f)
    grad = (2 / c ** 4) * (d + d.T) @ x / x.shape[1]
    return value, grad.reshape(f.shape)


def mean_std_loss(f):
    eps = 1e-5
    means = [flat(s).mean(1) for s in styles]
    seconds = [(flat(s) ** 2).mean(1) for s in styles]
    mu_t = sum(w * m for m, w in zip(means, weights))
    var_t = sum(w * q for q, w in zip(seconds, weights)) - mu_t ** 2
    sd_t = np.sqrt(np.maximum(var_t, 0) + eps)
    x = flat(f)
    n = x.shape[1]
    mu = x.mean(1)
    sd = np.sqrt(x.var(1) + eps)
    value = (((mu - mu_t) ** 2) + ((sd - sd_t) ** 2)).sum() / C
    grad = (2 / C) * ((mu - mu_t)[:, None] / n + (sd - sd_t)[:, None] * (x - mu[:, None]) / (n * sd[:, None]))
    return value, grad.reshape(f.shape)


def sqrtm(a, power=0.5, floor=0.0):
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    return (vecs * np.maximum(vals, floor) ** power) @ vecs.T


def w2_loss(f, epsilon=1e-4):
    means = [flat(s).mean(1) for s in styles]
    covs = [np.cov(flat(s), bias=True) for s in styles]
    mu_t = sum(w * m for m, w in zip(means, weights))
    cov_t = sum(w * (c + np.outer(m - mu_t, m - mu_t)) for c, m, w in zip(covs, means, weights))
    ridge = epsilon * np.trace(cov_t) / C
    cov_t = cov_t + ridge * np.eye(C)
    root_t = sqrtm(cov_t)
    x = flat(f)
    n = x.shape[1]
    mu = x.mean(1)
    cov = np.cov(x, bias=True) + ridge * np.eye(C)
    m = root_t @ cov @ root_t
    value = (((mu - mu_t) ** 2).sum() + np.trace(cov) + np.trace(cov_t) - 2 * np.trace(sqrtm(m))) / C
    a = (np.eye(C) - root_t @ sqrtm(m, -0.5, ridge * ridge) @ root_t) / C
    grad = 2 * a @ (x - mu[:, None]) / n + 2 * (mu - mu_t)[:, None] / (C * n)
    return value, grad.reshape(f.shape)


def histogram_loss(f, bins=16):
    x = flat(f)
    n = x.shape[1]
    value = 0.0
    grad = np.zeros_like(x)
    for ch in range(C):
        lo = min(flat(s)[ch].min() for s in styles)
        hi = max(flat(s)[ch].max() for s in styles)
        mass = np.zeros(bins)
        for s, w in zip(styles, weights):
            v = flat(s)[ch].astype(np.float32)
            scale = np.float32(bins) / np.float32(np.float32(hi) - np.float32(lo))
            idx = np.minimum(bins - 1, ((v - np.float32(lo)) * scale).astype(np.int64))
            np.add.at(mass, idx, w / v.size)
        cdf = np.cumsum(mass / sum(weights))
        width = (hi - lo) / bins
        order = np.argsort(x[ch], kind="stable")
        for r, i in enumerate(order):
            u = (r + 0.5) / n
            b = 0
            while b < bins - 1 and cdf[b] < u:
                b += 1
            below = 0.0 if b == 0 else cdf[b - 1]
            in_bin = cdf[b] - below
            t = min(max((u - below) / in_bin, 0), 1) if in_bin > 0 else 0.5
            target = lo + width * (b + t)
            d = x[ch, i] - target
            value += d * d
            grad[ch, i] = 2 * d / (C * n)
    return value / (C * n), grad.reshape(f.shape)


def mrf_loss(f, k=3, stride=2):
    patches = []
    for s in styles:
        _, _, h, w = s.shape
        for y in range(0, h - k + 1, stride):
            for x in range(0, w - k + 1, stride):
                patches.append(s[0, :, y:y + k, x:x + k].ravel())
    patches = np.array(patches)
    unit = patches / np.linalg.norm(patches, axis=1, keepdims=True)
    _, _, h, w = f.shape
    value = 0.0
    grad = np.zeros_like(f)
    rows, cols = h - k + 1, w - k + 1  # the picture's patches at every position
    for y in range(rows):
        for x in range(cols):
            p = f[0, :, y:y + k, x:x + k].ravel()
            best = int(np.argmax(unit @ p))
            d = p - patches[best]
            value += (d ** 2).sum()
            grad[0, :, y:y + k, x:x + k] += (2 * d).reshape(C, k, k)
    scale = 1 / (rows * cols * C * k * k)
    return value * scale, grad * scale


out = {
    "picture": {"shape": list(picture.shape), "values": picture.ravel().tolist()},
    "styles": [{"shape": list(s.shape), "values": s.ravel().tolist()} for s in styles],
    "weights": weights,
    "settings": {"histogramBins": 16, "mrfPatchSize": 3, "mrfStride": 2, "w2Epsilon": 1e-4},
    "losses": {},
}
for name, fn in [("gram", gram_loss), ("mean-std", mean_std_loss), ("w2", w2_loss),
                 ("histogram", histogram_loss), ("mrf", mrf_loss)]:
    value, grad = fn(picture)
    out["losses"][name] = {"value": float(value), "gradient": grad.ravel().tolist()}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "style_losses.json")
with open(path, "w") as fh:
    json.dump(out, fh)
print({k: v["value"] for k, v in out["losses"].items()})
