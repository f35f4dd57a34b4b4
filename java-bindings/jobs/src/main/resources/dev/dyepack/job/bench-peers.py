#!/usr/bin/env python3
"""Peers for `dyepack bench`: the same jobs done with NumPy (and PIL where installed), timed here.

Each subcommand does one job on files the bench wrote and prints one line: the best wall time in
seconds over the repeats, or "unavailable: REASON" when a library is missing. The bench runs these in the
same run as DyePack, so both see the same machine state.

  bench-peers.py blend IN.npy OUT.npy ALPHA          chunked Blended (keyed noise stand-in) + fsync
  bench-peers.py score X.npy W.npy B.npy REPEATS      SGEMM logits + top-2, margin, exact boundary distance
  bench-peers.py score-cuda X.npy W.npy B.npy REPEATS the same with PyTorch on CUDA (cuBLAS), device-resident data
  bench-peers.py folder-poison IN_DIR OUT_DIR RATE    PIL: copy the folder, blend RATE of the images, re-save
  bench-peers.py art-pattern IMAGES.npy REPEATS       IBM ART add_pattern_bd on N x H x W uint8 images
  bench-peers.py art-image IMAGES.npy REPEATS         IBM ART insert_image (an 8x8 grey trigger, blend 0.8)
"""
import os
import shutil
import sys
import time


def need_numpy():
    try:
        import numpy as np  # noqa: F401
        return np
    except ImportError:
        print("unavailable: NumPy is not installed for " + sys.executable)
        sys.exit(0)


def blend(src, dst, alpha):
    np = need_numpy()
    x = np.load(src, mmap_mode="r")
    per = x[0].size
    rng = np.random.default_rng(0)
    pattern = rng.integers(0, 256, size=x.shape[1:], dtype=np.uint8).astype(np.float32)
    t0 = time.perf_counter()
    out = np.lib.format.open_memmap(dst + ".tmp", mode="w+", dtype=x.dtype, shape=x.shape)
    chunk = max(1, (64 << 20) // per)
    for i in range(0, x.shape[0], chunk):
        part = x[i:i + chunk].astype(np.float32)
        out[i:i + chunk] = np.clip(np.rint((1 - alpha) * part + alpha * pattern), 0, 255).astype(np.uint8)
    out.flush()
    del out
    fd = os.open(dst + ".tmp", os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    os.replace(dst + ".tmp", dst)
    print("%.6f" % (time.perf_counter() - t0))


def head_norms(np, w):
    """||w_i - w_j|| for every pair of classes, in float64 through the Gram matrix (which also fits in memory
    for a wide head, C = 1000, D = 2048). Computed once, before any timing: the engine's prepared head keeps
    its norms too."""
    w64 = w.astype(np.float64)
    sq = (w64 * w64).sum(axis=1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (w64 @ w64.T), 0.0)).astype(np.float32)


def score_once(np, x, w, b, norms):
    """The timed work: SGEMM logits, the top two classes, the margin, and the least distance to a boundary."""
    rows = np.arange(x.shape[0])
    z = x @ w.T + b
    top2 = np.argpartition(-z, 1, axis=1)[:, :2]
    y = top2[:, 0]
    zy = z[rows, y]
    margin = zy - z[rows, top2[:, 1]]
    with np.errstate(invalid="ignore"):  # the own class's 0 / 0, set to infinity below
        dist = (zy[:, None] - z) / norms[y]
    dist[rows, y] = np.inf
    return margin, dist.min(axis=1)


def score(xf, wf, bf, repeats):
    np = need_numpy()
    x, w, b = np.load(xf), np.load(wf), np.load(bf)
    norms = head_norms(np, w)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        score_once(np, x, w, b, norms)
        best = min(best, time.perf_counter() - t0)
    print("%.6f" % best)


def score_cuda(xf, wf, bf, repeats):
    """The scoring above with PyTorch on the GPU: cuBLAS SGEMM (TF32 off: full float32, as the engine computes)
    and the epilogue as separate kernels, on features and head already in device memory; timed with CUDA
    events, best of the repeats after three warm-up runs."""
    np = need_numpy()
    try:
        import torch
    except ImportError:
        print("unavailable: PyTorch is not installed for " + sys.executable)
        return
    if not torch.cuda.is_available():
        print("unavailable: PyTorch for " + sys.executable + " has no usable CUDA device")
        return
    x, w, b = np.load(xf), np.load(wf), np.load(bf)
    norms = torch.from_numpy(head_norms(np, w)).cuda()
    xt, wt, bt = (torch.from_numpy(a).cuda() for a in (x, w, b))
    torch.backends.cuda.matmul.allow_tf32 = False
    rows = torch.arange(x.shape[0], device=xt.device)

    def once():
        z = torch.addmm(bt, xt, wt.t())
        top = torch.topk(z, 2, dim=1)
        y = top.indices[:, 0]
        dist = (top.values[:, :1] - z) / norms[y]
        dist[rows, y] = float("inf")
        return top.values[:, 0] - top.values[:, 1], dist.min(dim=1).values

    for _ in range(3):
        once()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        once()
        end.record()
        torch.cuda.synchronize()
        best = min(best, start.elapsed_time(end) / 1000.0)
    print("%.6f" % best)


def folder_poison(src, dst, rate):
    try:
        from PIL import Image
    except ImportError:
        print("unavailable: PIL is not installed for " + sys.executable)
        return
    np = need_numpy()
    t0 = time.perf_counter()
    shutil.copytree(src, dst)
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(dst) for f in fs)
    k = max(1, int(len(files) * rate))
    rng = np.random.default_rng(0)
    for f in rng.choice(files, size=k, replace=False):
        img = np.asarray(Image.open(f), dtype=np.float32)
        pattern = rng.integers(0, 256, size=img.shape).astype(np.float32)
        Image.fromarray(np.clip(np.rint(0.8 * img + 0.2 * pattern), 0, 255).astype(np.uint8)).save(f)
    print("%.6f" % (time.perf_counter() - t0))


def need_art():
    try:
        from art.attacks.poisoning import perturbations
        return perturbations
    except ImportError:
        print("unavailable: IBM ART (adversarial-robustness-toolbox) is not installed for " + sys.executable)
        sys.exit(0)


def art_pattern(path, repeats):
    """ART's checkerboard corner pattern on the whole batch; it returns a stamped copy, as ART's API does."""
    np = need_numpy()
    art = need_art()
    x = np.load(path)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        art.add_pattern_bd(x, distance=2, pixel_value=255)
        best = min(best, time.perf_counter() - t0)
    print("%.6f" % best)


def art_image(path, repeats):
    """ART's insert_image: a grey 8x8 trigger image pasted at a random place of each image and blended at 0.8.
    ART takes images in [0, 1] with a channel axis; the conversion is done before the timing."""
    np = need_numpy()
    art = need_art()
    from PIL import Image
    x = np.load(path)[..., None].astype(np.float32) / 255
    trigger = os.path.join(os.path.dirname(os.path.abspath(path)), "art-trigger.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)).save(trigger)
    best = float("inf")
    try:
        for _ in range(min(repeats, 2)):  # image by image through PIL: seconds per pass
            t0 = time.perf_counter()
            art.insert_image(x, backdoor_path=trigger, random=True, mode="L", blend=0.8)
            best = min(best, time.perf_counter() - t0)
    finally:
        os.remove(trigger)
    print("%.6f" % best)


if __name__ == "__main__":
    job = sys.argv[1]
    if job == "blend":
        blend(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif job == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif job == "score-cuda":
        score_cuda(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif job == "folder-poison":
        folder_poison(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif job == "art-pattern":
        art_pattern(sys.argv[2], int(sys.argv[3]))
    elif job == "art-image":
        art_image(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("unknown job " + job)
