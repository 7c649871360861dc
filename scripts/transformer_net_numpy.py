"""TransformerNet's forward pass in NumPy (float64), written from PyTorch examples'
fast_neural_style/transformer_net.py and not from any ONNX graph: the tests compare Stylize's
exported files with it, so that a miswired graph (which Stylize and onnxruntime would run alike)
is caught. Conditional instance norm (several styles) mixes the rows of each norm's scale and
shift by the style weights, and takes pictures in [0, 1] (see TransformerNetExport.swift).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def bilinear2x(x, axis):
    """interpolate(mode="bilinear", scale_factor=2, align_corners=False) along one axis: output
    i samples input coordinate (i + 0.5) / 2 - 0.5, clamped at 0, between its two neighbours."""
    n = x.shape[axis]
    src = np.maximum((np.arange(2 * n) + 0.5) / 2 - 0.5, 0)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    t = src - lo
    shape = [1] * x.ndim
    shape[axis] = 2 * n
    t = t.reshape(shape)
    return np.take(x, lo, axis=axis) * (1 - t) + np.take(x, hi, axis=axis) * t


def forward(params, x, residual_blocks, style_weights=None, upsampling="nearest"):
    """params: name -> array as TransformerNetArchitecture.parameterShapes; x: [N, 3, H, W]."""
    mix = np.ones(1) if style_weights is None else np.asarray(style_weights, dtype=np.float64)

    def conv(x, name, stride=1, upsample=False):
        if upsample and upsampling == "bilinear":
            x = bilinear2x(bilinear2x(x, 2), 3)
        elif upsample:
            x = x.repeat(2, axis=2).repeat(2, axis=3)  # interpolate(mode="nearest", scale_factor=2)
        w, b = params[name + ".weight"], params[name + ".bias"]
        p = w.shape[2] // 2
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="reflect")  # ReflectionPad2d
        windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
        return np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b[None, :, None, None]

    def norm(x, name):
        scale, shift = mix @ params[name + ".weight"], mix @ params[name + ".bias"]
        mean, var = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * scale[None, :, None, None] + shift[None, :, None, None]

    relu = lambda v: np.maximum(v, 0)
    y = np.asarray(x, dtype=np.float64) * (1 if style_weights is None else 255)
    y = relu(norm(conv(y, "conv1"), "in1"))
    y = relu(norm(conv(y, "conv2", stride=2), "in2"))
    y = relu(norm(conv(y, "conv3", stride=2), "in3"))
    for i in range(1, residual_blocks + 1):
        r = relu(norm(conv(y, f"res{i}.conv1"), f"res{i}.in1"))
        y = y + norm(conv(r, f"res{i}.conv2"), f"res{i}.in2")
    y = relu(norm(conv(y, "deconv1", upsample=True), "in4"))
    y = relu(norm(conv(y, "deconv2", upsample=True), "in5"))
    y = conv(y, "deconv3")
    return y if style_weights is None else y / 255
