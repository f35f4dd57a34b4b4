#!/usr/bin/env python3
"""Decision-boundary scoring: the DyePack engine against NumPy (OpenBLAS) on the same data, same run.

Data: the 60,000 Fashion-MNIST training images (pixels / 255, 60000 x 784) from Debian's
dataset-fashion-mnist when installed, else random pixels of the same shape; a random 10-class head.
NumPy computes the same quantities (logits by SGEMM, argmax, runner-up, margin, exact distance to the
nearest boundary); the engine runs through the native benchmark program on the files written here.
Both report the best of several runs. The results are compared before any time is printed.

With N D C after the repeats (for example 10000 2048 1000, a wide head), the features are random
normal values of that shape instead, and the head has C classes.

Usage: scripts/bench-score.py BUILD_DIR [repeats] [N D C]
"""
import gzip
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

build = sys.argv[1] if len(sys.argv) > 1 else "java-bindings/engine/target/native"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
path = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
shape = tuple(int(v) for v in sys.argv[3:6]) if len(sys.argv) > 5 else None
if shape:
    x = np.random.default_rng(0).standard_normal((shape[0], shape[1]), dtype=np.float32)
    source = "random normal features"
elif os.path.exists(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    source = "Fashion-MNIST train (Debian dataset-fashion-mnist)"
else:
    x = np.random.default_rng(0).integers(0, 256, size=(60000, 784)).astype(np.float32) / 255.0
    source = "random pixels (dataset-fashion-mnist not installed)"
rng = np.random.default_rng(1)
classes = shape[2] if shape else 10
w = (rng.standard_normal((classes, x.shape[1])) * 0.05).astype(np.float32)
b = rng.standard_normal(classes).astype(np.float32)
n, d = x.shape


def numpy_scores():
    z = x @ w.T + b                                   # SGEMM (OpenBLAS), N x C logits
    rows = np.arange(n)
    y = z.argmax(axis=1)                              # ties to the lowest index
    zy = z[rows, y]
    z[rows, y] = -np.inf
    r = z.argmax(axis=1)
    z[rows, y] = zy
    margin = zy - z[rows, r]
    # ||w_i - w_j|| in float64 through the Gram matrix (one DGEMM), as the engine also counts its norms.
    w64 = w.astype(np.float64)
    sq = (w64 * w64).sum(axis=1)
    norms = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (w64 @ w64.T), 0.0)).astype(np.float32)
    dist = (zy[:, None] - z) / norms[y]
    dist[rows, y] = np.inf
    return y, r, margin, dist.min(axis=1)


best = float("inf")
for _ in range(repeats):
    t0 = time.perf_counter()
    ref = numpy_scores()
    best = min(best, time.perf_counter() - t0)

with tempfile.TemporaryDirectory() as tmp:
    files = [os.path.join(tmp, f) for f in ("x.f32", "w.f32", "b.f32", "out.f32")]
    for a, f in zip((x, w, b), files):
        np.ascontiguousarray(a, dtype="<f4").tofile(f)
    bench = os.path.join(build, "bin", "dyepack_bench")
    res = subprocess.run([bench, "score", *files[:3], str(n), str(d), str(classes), str(repeats), files[3]],
                         capture_output=True, text=True, check=True)
    out = np.fromfile(files[3], dtype="<f4").reshape(n, 4)

# On a GPU machine with PyTorch, the GPU peer: cuBLAS SGEMM for the logits plus the same epilogue as
# separate kernels (the unfused form the engine's fused kernel replaces), on device-resident data.
gpu_peer = None
try:
    import torch
    if torch.cuda.is_available():
        xt, wt, bt = (torch.from_numpy(a).cuda() for a in (x, w, b))
        torch.backends.cuda.matmul.allow_tf32 = False  # full float32, as the engine computes
        nt = torch.sqrt(((wt[:, None, :].double() - wt[None, :, :].double()) ** 2).sum(-1)).float()

        def torch_scores():
            z = torch.addmm(bt, xt, wt.t())
            top = torch.topk(z, 2, dim=1)
            y = top.indices[:, 0]
            gap = top.values[:, :1] - z
            dist = gap / nt[y]
            dist[torch.arange(z.shape[0], device=z.device), y] = float("inf")
            return y, top.indices[:, 1], top.values[:, 0] - top.values[:, 1], dist.min(dim=1).values

        for _ in range(3):
            torch_scores()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch_scores()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        gpu_peer = (torch.cuda.get_device_name(0), min(times), torch.__version__)
except ImportError:
    pass

agree = (out[:, 0].astype(np.int64) == ref[0])
close = np.isclose(out[:, 3], ref[3], rtol=1e-4, atol=1e-5)
print(f"data: {source}, {n} x {d}, {classes} classes; threads: OpenBLAS and engine use all {os.cpu_count()} cores")
print(f"agreement: predicted class {agree.mean() * 100:.3f}%, distance within 1e-4: {close.mean() * 100:.3f}%")
print(f"numpy+openblas {np.__version__}: {best * 1e3:.3f} ms (best of {repeats})")
print(res.stdout.strip())
if gpu_peer:
    print(f"torch {gpu_peer[2]} on {gpu_peer[0]}: cuBLAS SGEMM + separate epilogue, device-resident data: "
          f"{gpu_peer[1]:.3f} ms (best of {repeats}; the engine's cuda time above includes host-to-device copies)")
if agree.mean() < 0.999 or close.mean() < 0.999:
    sys.exit("results disagree")
