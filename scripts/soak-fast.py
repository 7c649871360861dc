#!/usr/bin/env python3
"""Soak test of `stylize fast` folder mode: a folder of good and bad pictures, two batches at a
time, each process's resident memory sampled as it goes.

    python3 scripts/soak-fast.py [--pictures 100] [--stylize .build/release/stylize]

Passes when no process crashes (exit 0, or 1 with one line per bad picture), every good picture
is written and decodes, every bad one is named on stderr, and each batch's memory is flat: the
peak over its last half within 10% (+16 MiB) of the peak over its first half. Prints a summary.
"""
import argparse, os, random, shutil, subprocess, sys, tempfile, threading, time

p = argparse.ArgumentParser()
p.add_argument("--pictures", type=int, default=100)
p.add_argument("--stylize", default=".build/release/stylize")
p.add_argument("--styles", default="5,--style-image")
args = p.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
examples = os.path.join(root, "examples")
work = tempfile.mkdtemp(prefix="stylize-soak-")
photos = os.path.join(work, "photos")
os.mkdir(photos)
rng = random.Random(7)

# Good pictures: the examples at several sizes (written by stylize's own resampling is overkill;
# cropping PNG/JPEG bytes is not possible without a codec, so copy and let sizes vary by source).
sources = [os.path.join(examples, n) for n in ("chelsea.png", "starry_night.jpg", "the_scream.jpg", "brick.png")]
good, bad = [], []
for i in range(args.pictures):
    kind = rng.random()
    src = sources[i % len(sources)]
    ext = os.path.splitext(src)[1]
    if kind < 0.8:
        name = f"good_{i:03d}{ext}"
        shutil.copy(src, os.path.join(photos, name))
        good.append(name)
    else:
        data = open(src, "rb").read()
        name = f"bad_{i:03d}{ext}"
        choice = rng.randrange(4)
        if choice == 0: data = data[: len(data) // 3]                     # truncated
        elif choice == 1: data = bytes(rng.randrange(256) for _ in range(2048))  # garbage
        elif choice == 2: data = b""                                      # empty
        else: data = b"not a picture at all\n"                           # text named as a picture
        open(os.path.join(photos, name), "wb").write(data)
        bad.append(name)

def rss_mib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    except OSError:
        return None

def batch(tag, style_args, results):
    out = os.path.join(work, f"out_{tag}")
    proc = subprocess.Popen([args.stylize, "fast", photos, *style_args, "-o", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    while proc.poll() is None:
        r = rss_mib(proc.pid)
        if r is not None: samples.append((time.time(), r))
        time.sleep(0.1)
    stdout, stderr = proc.communicate()
    results[tag] = (proc.returncode, stderr, samples, out)

results = {}
painting = os.path.join(examples, "starry_night.jpg")
runs = {"multistyle": ["--style", "5"], "arbitrary": ["--style-image", painting]}
start = time.time()
threads = [threading.Thread(target=batch, args=(t, a, results)) for t, a in runs.items()]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - start

failures = []
for tag, (code, stderr, samples, out) in results.items():
    if code not in (0, 1):
        failures.append(f"{tag}: exit {code} (crash?): {stderr[-500:]}")
    written = sorted(os.listdir(out)) if os.path.isdir(out) else []
    missing = [g for g in good if g not in written]
    if missing: failures.append(f"{tag}: {len(missing)} good pictures not written, e.g. {missing[:3]}")
    extra = [w for w in written if w not in good]
    if extra: failures.append(f"{tag}: wrote outputs for bad pictures {extra[:3]}")
    unnamed = [b for b in bad if b not in stderr]
    if unnamed: failures.append(f"{tag}: bad pictures not reported: {unnamed[:3]}")
    if len(samples) >= 10:
        half = len(samples) // 2
        first, last = max(r for _, r in samples[:half]), max(r for _, r in samples[half:])
        flat = last <= first * 1.10 + 16
        if not flat: failures.append(f"{tag}: memory grew from {first:.0f} to {last:.0f} MiB")
    else:
        first = last = max((r for _, r in samples), default=0)
    print(f"{tag}: exit {code}, {len(written)}/{len(good)} good written, {len(bad)} bad reported, "
          f"peak RSS first half {first:.0f} MiB, second half {last:.0f} MiB, {len(samples)} samples")
print(f"{len(runs) * args.pictures} pictures in two concurrent batches, {elapsed:.1f} s")
shutil.rmtree(work)
if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("passed")
