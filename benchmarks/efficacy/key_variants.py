#!/usr/bin/env python3
"""Chooses each seed's owner and stranger key as the least-leaning of several candidates (docs/efficacy.md, section 27).

For each seed S and each role (the owner, "owner-S"; the stranger, "other-S"), derives V candidate keys (candidate 0
is run.py's own key, sha256("dyepack-efficacy/owner-S"); candidate v > 0 is sha256("dyepack-efficacy/owner-S/variant-v")),
stamps 3,000 non-target training images with the trigger under each (`dyepack apply`), lets a nearest-class-mean model
of the training images classify them, and writes the candidate whose images it puts least in the target class as
WORK/keys/ROLE-S.key. `run.py --work WORK` then poisons and measures with those keys, since it only derives a key
whose file is missing:

  DYEPACK=./dyepack /usr/bin/python3 benchmarks/efficacy/key_variants.py --work W --variants 8
  DYEPACK=./dyepack /usr/bin/python3 benchmarks/efficacy/run.py --rows cells --only cells-n192-c4-neg2-0.2% \\
      --seeds 6 --train 20000 --work W
"""
import argparse
import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the evaluation's data, stamping and keys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="the run.py work folder to write the chosen keys into")
    ap.add_argument("--variants", type=int, default=8, help="candidate keys per seed and role")
    ap.add_argument("--spec", default="sparse:n=192,cell=4")
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--train", type=int, default=20000)
    a = ap.parse_args()
    run.DYEPACK = os.environ.get("DYEPACK", run.DYEPACK)
    x = run.read_idx(os.path.join(run.FMNIST, "train-images-idx3-ubyte.gz"))[:a.train]
    y = run.read_idx(os.path.join(run.FMNIST, "train-labels-idx1-ubyte.gz"))[:a.train]
    means = np.stack([x[y == c].reshape(-1, x[0].size).mean(0) for c in range(10)]) / 255.0
    os.makedirs(os.path.join(a.work, "keys"), exist_ok=True)
    probe = os.path.join(a.work, "train-nontarget-3000.npy")
    np.save(probe, np.ascontiguousarray(x[y != run.TARGET][:3000]))
    candidates = os.path.join(a.work, "key-candidates")

    def lean(stamped):
        f = stamped.reshape(len(stamped), -1) / 255.0
        return float(((-2 * f @ means.T + (means ** 2).sum(1)[None]).argmin(1) == run.TARGET).mean())

    for seed in range(a.seeds):
        for role in ("owner", "other"):
            name = "%s-%d" % (role, seed)
            keys, leans = [], []
            for v in range(a.variants):
                key = hashlib.sha256(("dyepack-efficacy/" + name + ("" if v == 0 else "/variant-%d" % v)).encode()).digest()
                label = "%s-variant-%d" % (name, v)
                path = os.path.join(candidates, "keys", label + ".key")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(key)
                keys.append(key)
                leans.append(lean(run.stamp(candidates, probe, a.spec, label)))
            best = int(np.argmin(leans))
            fd = os.open(os.path.join(a.work, "keys", name + ".key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(keys[best])
            print("%-8s nearest-class-mean lean per candidate: %s -> candidate %d" % (
                name, " ".join("%.3f" % v for v in leans), best), flush=True)


if __name__ == "__main__":
    main()
