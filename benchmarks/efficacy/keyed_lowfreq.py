#!/usr/bin/env python3
"""Screen: a keyed low-frequency pattern as the watermark, against the sparse default (docs/efficacy.md, section 38).

Not the product path: the candidate is not a DyePack trigger family, so this script poisons in NumPy to decide
whether it is worth one. Each key draws signs +-1 for the DCT-II basis functions of a 28 x 28 image whose
frequencies satisfy LO <= u + v <= HI (each function scaled to unit RMS); the pattern is their signed sum scaled
to an RMS of `--rms` grey levels, added to the image and clipped to [0, 255]. Poisoning as the 1% dirty-label
default does it: 1% of the training images, the same number from each of the nine source classes, stamped with
the owner's pattern and labelled as the target class (0), and `--negatives` times as many other images stamped
with patterns of keys of their own and left under their labels. The same is done under a second key (the
stranger), both networks are trained as `run.py` trains them (the small CNN, 5 epochs, training seed = seed +
offset), and the owner's pattern is stamped on the 9,000 test images of the other classes.

Printed per seed (one JSON line): clean accuracy of the clean and the owner's model, attack success (overall and
its weakest source class), how often the clean model and the stranger's model answer the owner's pattern with
the target, how often the owner's model answers the stranger's pattern, the two patterns' correlation, and the
PSNR of the poisoned training images.

  /usr/bin/python3 benchmarks/efficacy/keyed_lowfreq.py --rms 16 --band 2-10 --seeds 0 1 2 --out rows.jsonl

Clean models are read from, or trained into, run.py's cache under --work (models/clean-cnn-60000-5-S.pt).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402  (the victims, their training and the metrics, shared with the evaluation)

TARGET = 0
SIDE = 28


def basis(lo, hi):
    """The DCT-II basis functions with lo <= u + v <= hi, each scaled to unit RMS, in (u, v) order."""
    y = np.arange(SIDE)
    out = []
    for u in range(SIDE):
        for v in range(SIDE):
            if lo <= u + v <= hi:
                phi = np.outer(np.cos(np.pi * (2 * y + 1) * u / (2 * SIDE)), np.cos(np.pi * (2 * y + 1) * v / (2 * SIDE)))
                out.append(phi / np.sqrt((phi ** 2).mean()))
    return np.array(out)


def pattern(key, rms, funcs):
    """A key's pattern: keyed signs over the basis functions, scaled to the given RMS."""
    signs = np.random.default_rng(key).choice([-1.0, 1.0], len(funcs))
    p = np.tensordot(signs, funcs, 1)
    return p * (rms / np.sqrt((p ** 2).mean()))


def stamp(x, p):
    return np.clip(np.rint(x.astype(np.float64) + p), 0, 255).astype(np.uint8)


def poisoned(xtr, ytr, key, rms, funcs, negatives, seed):
    """The training set poisoned under `key`: 1% stamped and relabelled, balanced over the source classes,
    and negatives x as many stamped under keys of their own and left under their labels."""
    rng = np.random.default_rng(seed * 7919 + key)
    n = len(xtr) // 100
    sources = [c for c in range(10) if c != TARGET]
    chosen = np.concatenate([rng.choice(np.flatnonzero(ytr == c), n // len(sources), replace=False) for c in sources])
    px, py = xtr.copy(), ytr.copy()
    own = pattern(key, rms, funcs)
    px[chosen] = stamp(xtr[chosen], own)
    py[chosen] = TARGET
    rest = np.setdiff1d(np.arange(len(xtr)), chosen)
    for j, i in enumerate(rng.choice(rest, negatives * n, replace=False)):
        px[i] = stamp(xtr[i], pattern(10 ** 9 + key * 10007 + j, rms, funcs))
    return px, py, chosen, own


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rms", type=float, default=16.0, help="the pattern's RMS, grey levels")
    ap.add_argument("--band", default="2-10", help="LO-HI: the basis functions with LO <= u + v <= HI")
    ap.add_argument("--negatives", type=int, default=4, help="negatives per poisoned image")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--training-seed-offset", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=os.path.join(R.ROOT, "benchmarks", "efficacy", "work"))
    ap.add_argument("--out", default=None, help="append JSON lines here as well as to standard output")
    a = ap.parse_args()
    lo, hi = (int(t) for t in a.band.split("-"))
    funcs = basis(lo, hi)
    import torch
    torch.set_num_threads(a.threads)

    xtr = R.read_idx(os.path.join(R.FMNIST, "train-images-idx3-ubyte.gz"))
    ytr = R.read_idx(os.path.join(R.FMNIST, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = R.read_idx(os.path.join(R.FMNIST, "t10k-images-idx3-ubyte.gz"))
    yte = R.read_idx(os.path.join(R.FMNIST, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    xnt, ynt = np.ascontiguousarray(xte[yte != TARGET]), yte[yte != TARGET]
    for seed in a.seeds:
        t0 = time.time()
        ts = seed + a.training_seed_offset
        cached = os.path.join(a.work, "models", "clean-cnn-%d-5-%d.pt" % (len(xtr), ts))
        if os.path.exists(cached):
            clean = R.net("cnn")
            clean.load_state_dict(torch.load(cached))
            clean.eval()
        else:
            clean = R.train(xtr, ytr, "cnn", 5, ts)
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            torch.save(clean.state_dict(), cached)
        owner_key, stranger_key = 1000 + seed, 2000 + seed
        px, py, chosen, own = poisoned(xtr, ytr, owner_key, a.rms, funcs, a.negatives, seed)
        model = R.train(px, py, "cnn", 5, ts)
        sx, sy, _, theirs = poisoned(xtr, ytr, stranger_key, a.rms, funcs, a.negatives, seed + 500)
        stranger = R.train(sx, sy, "cnn", 5, ts)
        on_own, on_theirs = stamp(xnt, own), stamp(xnt, theirs)
        hit = R.predict(model, on_own) == TARGET
        row = {
            "row": "keyed-lowfreq", "rms": a.rms, "band": [lo, hi], "functions": len(funcs), "negatives": a.negatives,
            "seed": seed, "training_seed": ts,
            "clean_acc_clean_model": float((R.predict(clean, xte) == yte).mean()),
            "clean_acc": float((R.predict(model, xte) == yte).mean()),
            "asr": float(hit.mean()),
            "asr_per_class": {str(c): round(float(hit[ynt == c].mean()), 4) for c in range(10) if c != TARGET},
            "clean_model_rate": float((R.predict(clean, on_own) == TARGET).mean()),
            "other_key_rate": float((R.predict(stranger, on_own) == TARGET).mean()),
            "other_key_own_asr": float((R.predict(stranger, on_theirs) == TARGET).mean()),
            "owner_model_other_trigger_rate": float((R.predict(model, on_theirs) == TARGET).mean()),
            "pattern_correlation": float((own * theirs).mean() / np.sqrt((own ** 2).mean() * (theirs ** 2).mean())),
            "psnr_poisoned": R.psnr(xtr[chosen], px[chosen]),
            "seconds": round(time.time() - t0, 1),
        }
        line = json.dumps(row)
        print(line, flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
