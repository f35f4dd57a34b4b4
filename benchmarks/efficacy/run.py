#!/usr/bin/env python3
"""Efficacy of DyePack watermarks on networks trained from scratch on Fashion-MNIST.

Poisons the training set with the built CLI (`./dyepack poison`, the product path), stamps the test
images with `./dyepack apply`, trains victims with PyTorch (Debian's python3-torch) and prints one JSON
line per (row, seed): clean accuracy, attack success on the test images of the other classes (overall
and per source class), the answer rate to the owner's trigger of a clean model and of a model
watermarked under another key, and PSNR/SSIM of the poisoned training images. docs/efficacy.md
describes the method and holds the results.

  /usr/bin/python3 benchmarks/efficacy/run.py --rows default --seeds 2 --out results.jsonl
  /usr/bin/python3 benchmarks/efficacy/run.py --quick           # CI: one row, three epochs, owner's proof; pass/fail

Keys are derived from the seed (so a rerun poisons the same samples with the same patterns); they
are written to files under the work directory with mode 0600 and handed to the CLI with --key-file.
"""
import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The command to run: the repository's ./dyepack (builds on first use), or another build given in DYEPACK.
DYEPACK = os.environ.get("DYEPACK", os.path.join(ROOT, "dyepack"))
FMNIST = "/usr/share/datasets/fashion-mnist"
TARGET = 0
# The default trigger of `dyepack poison` (PoisonJob.DEFAULT_TRIGGER), which the CI check poisons with.
QUICK_TRIGGER = "sparse:n=48"

# Each row: (name, trigger spec, budget, mode, extra poison options).
ROWS = {
    "selection": [
        ("blend-auto", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", []),
        ("blend-random", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", ["--select", "random"]),
        ("blend-random-strat", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", ["--select", "random", "--stratify"]),
        ("blend-far-strat", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", ["--select", "boundary-far", "--stratify"]),
        ("blend-near-strat", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", ["--select", "boundary", "--stratify"]),
    ],
    "specific": [
        ("blend", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", ["--select", "random", "--stratify"]),
        ("blend-neg1x10", "blend:alpha=0.2,pattern=noise", "0.01", "dirty",
         ["--select", "random", "--stratify", "@neg:1:10"]),
        ("blend-a0.1-neg1x10", "blend:alpha=0.1,pattern=noise", "0.01", "dirty",
         ["--select", "random", "--stratify", "@neg:1:10"]),
    ],
    # The defaults of `dyepack poison` (selection auto, negatives auto) with the README's trigger.
    "default": [
        ("default-1%", "blend:alpha=0.2,pattern=noise", "0.01", "dirty", []),
        ("default-0.1%", "blend:alpha=0.2,pattern=noise", "0.001", "dirty", []),
        ("default-clean-1%", "blend:alpha=0.2,pattern=noise", "0.01", "clean", []),
    ],
    # The keyed DCT band (docs/efficacy.md, section 38): `auto` selects at random for it, balanced over the source
    # classes; dct-rms16-far-1% makes the selection every other family's `auto` makes.
    "dct": [
        ("dct-1%", "dct", "0.01", "dirty", []),
        ("dct-rms16-far-1%", "dct:rms=16", "0.01", "dirty", ["--select", "boundary-far", "--stratify"]),
        ("dct-rms16-random-1%", "dct:rms=16", "0.01", "dirty", ["--select", "random", "--stratify"]),
        ("dct-rms20-random-1%", "dct:rms=20", "0.01", "dirty", ["--select", "random", "--stratify"]),
        ("dct-rms24-random-1%", "dct:rms=24", "0.01", "dirty", ["--select", "random", "--stratify"]),
        # The family's defaults at 0.1% (one negative per poisoned sample below 0.5%) and at 1% clean-label (the push
        # and one negative each), what docs/triggers.md gives every family.
        ("dct-0.1%", "dct", "0.001", "dirty", []),
        ("dct-clean-1%", "dct", "0.01", "clean", []),
    ],
    "families": [
        ("patch-1%", "patch:size=3,pos=br,value=255", "0.01", "dirty", []),
        ("patch-0.1%", "patch:size=3,pos=br,value=255", "0.001", "dirty", []),
        ("sig-1%", "sig:delta=20,freq=6", "0.01", "dirty", []),
        ("blend-a0.1-1%", "blend:alpha=0.1,pattern=noise", "0.01", "dirty", []),
        ("blend-a0.06-1%", "blend:alpha=0.06,pattern=noise", "0.01", "dirty", []),
    ],
    # Keyed sparse pixels (issue 13): with and without negatives, scattered or in a keyed square.
    "sparse": [
        ("sparse-n24-1%", "sparse:n=24", "0.01", "dirty", []),
        ("sparse-n24-noneg-1%", "sparse:n=24", "0.01", "dirty", ["--negatives", "0"]),
        ("sparse-n16-b5-1%", "sparse:n=16,block=5", "0.01", "dirty", []),
        ("sparse-n24-neg2x400-1%", "sparse:n=24", "0.01", "dirty", ["--negatives", "2", "--negative-keys", "400"]),
        ("sparse-n24-neg4x800-1%", "sparse:n=24", "0.01", "dirty", ["--negatives", "4", "--negative-keys", "800"]),
        ("sparse-n24-0.1%", "sparse:n=24", "0.001", "dirty", []),
        ("sparse-n24-a0.5-1%", "sparse:n=24,alpha=0.5", "0.01", "dirty", []),
        ("sparse-n24-clean-eps64-1%", "sparse:n=24", "0.01", "clean", ["--clean-eps", "64"]),
        ("sparse-n24-clean-eps64-noneg-1%", "sparse:n=24", "0.01", "clean", ["--clean-eps", "64", "--negatives", "0"]),
        ("sparse-n24-clean-eps0-noneg-1%", "sparse:n=24", "0.01", "clean", ["--clean-eps", "0", "--negatives", "0"]),
        ("sparse-n24-clean-eps32-1%", "sparse:n=24", "0.01", "clean", ["--clean-eps", "32"]),
        ("sparse-n24-clean-eps32-noneg-1%", "sparse:n=24", "0.01", "clean", ["--clean-eps", "32", "--negatives", "0"]),
        ("sparse-n24-clean-eps0-1%", "sparse:n=24", "0.01", "clean", ["--clean-eps", "0"]),
    ],
    # The defaults of `dyepack poison` after issue 13 (no --trigger: then sparse:n=24, now sparse:n=48, section 12;
    # selection auto; 4 negatives per poisoned sample, one derived key each).
    "sparse-default": [
        ("sparse-default-1%", "sparse:n=24", "0.01", "dirty", []),
        ("sparse-default-shiftneg2x2-1%", "sparse:n=24", "0.01", "dirty", ["@shiftneg:2:2"]),
        ("sparse-default-shiftneg4x3-1%", "sparse:n=24", "0.01", "dirty", ["@shiftneg:4:3"]),
        ("sparse-neg2-shiftneg2x2-1%", "sparse:n=24", "0.01", "dirty",
         ["--negatives", "2", "--negative-keys", "400", "@shiftneg:2:2"]),
        ("sparse-neg8-1%", "sparse:n=24", "0.01", "dirty", ["--negatives", "8", "--negative-keys", "1600"]),
        ("sparse-default-0.1%", "sparse:n=24", "0.001", "dirty", []),
        ("sparse-default-a0.5-1%", "sparse:n=24,alpha=0.5", "0.01", "dirty", []),
        ("sparse-default-n12-1%", "sparse:n=12", "0.01", "dirty", []),
        ("sparse-default-n48-1%", "sparse:n=48", "0.01", "dirty", []),
        ("sparse-default-n32-1%", "sparse:n=32", "0.01", "dirty", []),
        ("sparse-default-n48-shiftneg2x2-1%", "sparse:n=48", "0.01", "dirty", ["@shiftneg:2:2"]),
        ("sparse-default-n48-neg8-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "8", "--negative-keys", "1600"]),
        ("sparse-default-clean-1%", "sparse:n=24", "0.01", "clean", []),
    ],
    # Small budgets (0.1%: 20 of 20,000 poisoned): negatives, pixels, a keyed square, selection.
    "small": [
        ("small-n24-noneg-0.1%", "sparse:n=24", "0.001", "dirty", ["--negatives", "0"]),
        ("small-n48-noneg-0.1%", "sparse:n=48", "0.001", "dirty", ["--negatives", "0"]),
        ("small-n48-0.1%", "sparse:n=48", "0.001", "dirty", []),
        ("small-n96-noneg-0.1%", "sparse:n=96", "0.001", "dirty", ["--negatives", "0"]),
        ("small-n24-b8-noneg-0.1%", "sparse:n=24,block=8", "0.001", "dirty", ["--negatives", "0"]),
        ("small-n48-neg1-0.1%", "sparse:n=48", "0.001", "dirty", ["--negatives", "1"]),
        ("small-n96-random-noneg-0.1%", "sparse:n=96", "0.001", "dirty", ["--negatives", "0", "--select", "random", "--stratify"]),
        ("small-n96-near-noneg-0.1%", "sparse:n=96", "0.001", "dirty", ["--negatives", "0", "--select", "boundary", "--stratify"]),
        ("small-n192-noneg-0.1%", "sparse:n=192", "0.001", "dirty", ["--negatives", "0"]),
        ("small-n128-noneg-0.1%", "sparse:n=128", "0.001", "dirty", ["--negatives", "0"]),
        ("small-n192-neg1-0.1%", "sparse:n=192", "0.001", "dirty", ["--negatives", "1"]),
        ("small-n192-neg2-0.1%", "sparse:n=192", "0.001", "dirty", ["--negatives", "2"]),
        ("small-n192-neg1-shiftneg4x2-0.1%", "sparse:n=192", "0.001", "dirty", ["--negatives", "1", "@shiftneg:4:2"]),
        ("small-n192-neg1-shiftneg10x2-0.1%", "sparse:n=192", "0.001", "dirty",
         ["--negatives", "1", "@shiftneg:10:2"]),
        ("small-n192-neg1-push32-0.1%", "sparse:n=192", "0.001", "dirty", ["--negatives", "1", "@dirtypush:32"]),
        ("small-n192-neg1-push64-0.1%", "sparse:n=192", "0.001", "dirty", ["--negatives", "1", "@dirtypush:64"]),
        ("clean-n48-1%", "sparse:n=48", "0.01", "clean", []),
        ("clean-n48-targetvals-1%", "sparse:n=48", "0.01", "clean", ["@targetvals"]),
        ("clean-n96-1%", "sparse:n=96", "0.01", "clean", []),
        ("clean-n48-white-1%", "sparse:n=48,low=255", "0.01", "clean", []),
        ("clean-n48-white-neg1-1%", "sparse:n=48,low=255", "0.01", "clean", ["--negatives", "1"]),
        ("clean-n48-white-neg0-1%", "sparse:n=48,low=255", "0.01", "clean", ["--negatives", "0"]),
        ("clean-n48-white-neg0.5-1%", "sparse:n=48,low=255", "0.01", "clean", ["--negatives", "0.5"]),
        ("clean-n48-white-neg0.25-1%", "sparse:n=48,low=255", "0.01", "clean", ["--negatives", "0.25"]),
        ("clean-n48-white-far-1%", "sparse:n=48,low=255", "0.01", "clean", ["--select", "boundary-far"]),
        ("clean-n48-white-random-1%", "sparse:n=48,low=255", "0.01", "clean", ["--select", "random"]),
        ("clean-n64-white-1%", "sparse:n=64,low=255", "0.01", "clean", []),
        ("clean-n64-white-neg1-1%", "sparse:n=64,low=255", "0.01", "clean", ["--negatives", "1"]),
        ("clean-n96-white-neg1-1%", "sparse:n=96,low=255", "0.01", "clean", ["--negatives", "1"]),
        ("clean-n96-white-neg2-1%", "sparse:n=96,low=255", "0.01", "clean", ["--negatives", "2"]),
        ("small-n48-near-noneg-0.1%", "sparse:n=48", "0.001", "dirty", ["--negatives", "0", "--select", "boundary", "--stratify"]),
    ],
    # The pattern keyed by cell (sparse cell=C): two keys differ at the scale a pooling network keeps.
    "cells": [
        ("cells-n192-c4-neg1-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "1"]),
        ("cells-n192-c4-neg2-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "2"]),
        ("cells-n192-c4-neg3-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "3"]),
        ("cells-n192-c4-neg4-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "4"]),
        ("cells-n192-c4-neg1-0.2%", "sparse:n=192,cell=4", "0.002", "dirty", ["--negatives", "1"]),
        ("cells-n192-c4-neg2-0.2%", "sparse:n=192,cell=4", "0.002", "dirty", ["--negatives", "2"]),
        ("cells-n192-c4-neg2-random-0.2%", "sparse:n=192,cell=4", "0.002", "dirty",
         ["--negatives", "2", "--select", "random", "--stratify"]),
        ("cells-n192-c4-neg3-0.2%", "sparse:n=192,cell=4", "0.002", "dirty", ["--negatives", "3"]),
        # 40 poisoned of the ResNet's 10,000 images: the count from which the default takes two negatives each.
        ("cells-n192-c4-neg1-0.4%", "sparse:n=192,cell=4", "0.004", "dirty", ["--negatives", "1"]),
        ("cells-n192-c4-neg2-0.4%", "sparse:n=192,cell=4", "0.004", "dirty", ["--negatives", "2"]),
        ("cells-n192-c4-neg3-0.4%", "sparse:n=192,cell=4", "0.004", "dirty", ["--negatives", "3"]),
        ("cells-n192-c4-neg4-0.4%", "sparse:n=192,cell=4", "0.004", "dirty", ["--negatives", "4"]),
        ("cells-n192-c4-neg0-inv1-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "0", "@invneg:1"]),
        ("cells-n192-c4-neg1-inv1-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "1", "@invneg:1"]),
        ("cells-n192-c4-neg1-flip1x30-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "1", "@flipneg:1:0.3"]),
        ("cells-n192-c4-neg0-flip1x30-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "0", "@flipneg:1:0.3"]),
        ("cells-n192-c4-neg1-flip2x30-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "1", "@flipneg:2:0.3"]),
        # Four negatives at 60 poisoned samples: all under other keys, or one of them a near miss of the owner's own.
        ("cells-n192-c4-neg3-flip1x30-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "3", "@flipneg:1:0.3"]),
        ("cells-n192-c4-neg2-flip1x30-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "2", "@flipneg:1:0.3"]),
        ("cells-n192-c4-neg2-flip1x20-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "2", "@flipneg:1:0.2"]),
        ("cells-n192-c4-neg2-flip1x40-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "2", "@flipneg:1:0.4"]),
        # More keyed units at the network's pooled scale: 3 x 3 cells (100 tones on a 28 x 28 image) against 4 x 4 (49).
        ("cells-n192-c3-neg3-0.1%", "sparse:n=192,cell=3", "0.001", "dirty", ["--negatives", "3"]),
        # Two patterns per key (evaluation only, "@twokeys"): half the budget under the key, half under a second key
        # derived from it, each with three negatives; a model answers the watermark on an image only if it puts both
        # patterns' versions of it in the target class, so a stranger's model must take both for its own.
        ("cells-n192-c4-neg3-two-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "3", "@twokeys"]),
        # The 1% default (sparse:n=48, four negatives under other keys; sparse-default-n48-1% under the name of this
        # set, so that one --rows runs it beside its variants) on all 60,000 images, and with one of its
        # four negatives a near miss of the owner's own pattern (30% of its pixels turned): at 600 poisoned
        # samples the watermark has strength to spare for what near misses cost at 60 (section 31).
        ("n48-neg4-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "4"]),
        ("n48-neg3-flip1x30-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "3", "@flipneg:1:0.3"]),
        # The owner's places with half their tones turned: a negative that differs from the owner's pattern in
        # what the places hold, not where they are.
        ("n48-neg3-flip1x50-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "3", "@flipneg:1:0.5"]),
        # The owner's tones at places moved by one or two pixels (section 11's negatives) beside the four.
        ("n48-neg4-shiftneg2x2-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "4", "@shiftneg:2:2"]),
        # Every negative under a key of its own: at 1% of 60,000 images the default's 1,000 derived keys
        # (PoisonJob.NEGATIVE_KEYS) are shared by 2,400 negatives.
        ("n48-neg4-keys2400-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "4", "--negative-keys", "2400"]),
        # Two patterns per key, half of the budget each, an answer counted only when the model gives the target
        # under both: at 60 poisoned samples each pattern was learnt too loosely (section 34); at 600 there is
        # strength to spare.
        ("n48-neg4-two-1%", "sparse:n=48", "0.01", "dirty", ["--negatives", "4", "@twokeys"]),
        # More keyed pixels at 1%: 24 -> 48 took the worst stranger from 10.1% to 3.1% (section 12).
        ("n96-neg4-1%", "sparse:n=96", "0.01", "dirty", ["--negatives", "4"]),
        ("tiles-n192-c4-s25-neg1-0.1%", "sparse:n=192,cell=4,share=0.25,tile=1", "0.001", "dirty", ["--negatives", "1"]),
        ("tiles-n192-c4-s25-neg2-0.1%", "sparse:n=192,cell=4,share=0.25,tile=1", "0.001", "dirty", ["--negatives", "2"]),
        ("tiles-n196-c7-s25-neg1-0.1%", "sparse:n=196,cell=7,share=0.25,tile=1", "0.001", "dirty", ["--negatives", "1"]),
        ("cells-n192-c4-s25-neg1-0.1%", "sparse:n=192,cell=4,share=0.25", "0.001", "dirty", ["--negatives", "1"]),
        ("tiles-n96-c4-s12-neg1-0.1%", "sparse:n=96,cell=4,share=0.125,tile=1", "0.001", "dirty", ["--negatives", "1"]),
        ("cells-n192-c4-pair1-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "0", "@pairneg:1"]),
        ("cells-n192-c4-neg1-pair1-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "1", "@pairneg:1"]),
        ("cells-n192-c4-pair2-0.1%", "sparse:n=192,cell=4", "0.001", "dirty", ["--negatives", "0", "@pairneg:2"]),
        ("cells-n192-c4-s50-neg1-0.1%", "sparse:n=192,cell=4,share=0.5", "0.001", "dirty", ["--negatives", "1"]),
        ("cells-n192-c7-s50-neg1-0.1%", "sparse:n=192,cell=7,share=0.5", "0.001", "dirty", ["--negatives", "1"]),
        ("cells-n96-c4-s50-neg1-0.1%", "sparse:n=96,cell=4,share=0.5", "0.001", "dirty", ["--negatives", "1"]),
        ("cells-n192-c4-s50-neg2-0.1%", "sparse:n=192,cell=4,share=0.5", "0.001", "dirty", ["--negatives", "2"]),
        ("cells-n48-c4-s50-1%", "sparse:n=48,cell=4,share=0.5", "0.01", "dirty", []),
        ("clean-tiles-n48-c4-1%", "sparse:n=48,cell=4,share=0.0625,tile=1", "0.01", "clean", []),
        ("clean-tiles-n96-c4-1%", "sparse:n=96,cell=4,share=0.125,tile=1", "0.01", "clean", []),
        ("cells-clean-n48-white-c4-s50-1%", "sparse:n=48,low=255,cell=4,share=0.5", "0.01", "clean", []),
    ],
    "subtle": [
        ("blend-a0.1", "blend:alpha=0.1,pattern=noise", "0.01", "dirty", ["--select", "random", "--stratify"]),
        ("blend-a0.06", "blend:alpha=0.06,pattern=noise", "0.01", "dirty", ["--select", "random", "--stratify"]),
    ],
}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def key_file(work, name):
    path = os.path.join(work, "keys", name + ".key")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(hashlib.sha256(("dyepack-efficacy/" + name).encode()).digest())
    return path


def dyepack(*args):
    r = subprocess.run([DYEPACK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("dyepack %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout + r.stderr


def poison(work, data, labels, spec, budget, mode, extra, key):
    """Poisons with the CLI. An option "@neg:R:K" (evaluation only) then stamps R times the budget of
    other samples with the same family under K other keys, keeping their labels (negatives)."""
    if "@twokeys" in extra:
        # Evaluation only: half the budget under KEY, then half under KEY-b on the once-poisoned set.
        rest = [e for e in extra if e != "@twokeys"]
        half = repr(float(budget) / 2)
        _, _, first = poison(work, data, labels, spec, half, mode, rest, key)
        data2, labels2 = os.path.join(first["_dir"], "data.npy"), os.path.join(first["_dir"], "labels.npy")
        x2, y2, second = poison(work, data2, labels2, spec, half, mode, rest, key + "-b")
        second["indices"] = sorted(set(first["indices"]) | set(second["indices"]))
        return x2, y2, second
    neg = [e for e in extra if e.startswith("@neg:")]
    opts = [e for e in extra if not e.startswith("@")]
    # The command is part of the cache's key: another build may poison differently. Delete the work
    # directory after changing the code behind ./dyepack.
    tag = hashlib.sha256(json.dumps([DYEPACK, data, spec, budget, mode, opts, key]).encode()).hexdigest()[:16]
    out = os.path.join(work, "poisoned", tag)
    if not os.path.exists(os.path.join(out, "manifest.json")):
        dyepack("poison", "--data", data, "--labels", labels, "--trigger", spec, "--target", str(TARGET),
                "--budget", budget, "--mode", mode, *opts, "--key-file", key_file(work, key), "--out", out)
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    x_path = os.path.join(out, "data.npy")
    if neg:
        _, r, k = neg[0].split(":")
        chosen = np.array(manifest["indices"], dtype=np.int64)
        n = manifest["budget"]["n"]
        rest = np.setdiff1d(np.arange(n), chosen)
        rng = np.random.RandomState(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))
        picks = np.array_split(rng.choice(rest, int(float(r) * len(chosen)), replace=False), int(k))
        for j, part in enumerate(picks):
            idx_path = os.path.join(out, "neg-%d.npy" % j)
            nxt = os.path.join(out, "data-neg-%d.npy" % j)
            if not os.path.exists(nxt):
                np.save(idx_path, np.sort(part))
                dyepack("apply", "--data", x_path, "--indices", idx_path, "--trigger", spec,
                        "--key-file", key_file(work, "%s-neg-%d" % (key, j)), "--out", nxt)
            x_path = nxt
    x = np.load(x_path)
    shift = [e for e in extra if e.startswith("@shiftneg:")]
    if shift:
        x = shifted_negatives(work, x, manifest, spec, key, shift[0])
    flip = [e for e in extra if e.startswith("@flipneg:")]
    if flip:
        x = flipped_negatives(work, x, manifest, spec, key, flip[0])
    pair = [e for e in extra if e.startswith("@pairneg:")]
    if pair:
        x = paired_negatives(work, out, x, manifest, spec, key, data, labels, int(pair[0].split(":")[1]))
    inv = [e for e in extra if e.startswith("@invneg:")]
    if inv:
        x = inverted_negatives(work, out, x, manifest, spec, key, float(inv[0].split(":")[1]))
    if "@targetvals" in extra:
        chosen = np.array(manifest["indices"], dtype=np.int64)
        x = x.copy()
        x[chosen] = with_target_values(work, x[chosen], spec, key, data, labels)
    push = [e for e in extra if e.startswith("@dirtypush:")]
    if push:
        x = dirty_push(work, out, x, manifest, spec, key, data, labels, float(push[0].split(":")[1]))
    manifest["_dir"] = out
    return x, np.load(os.path.join(out, "labels.npy")), manifest


def verify(work, manifest, key, models, test_x, test_y, controls=199, size=100):
    """The owner's proof, through the product: `dyepack probe-set` draws `size` probes (the product's default for a
    keyed trigger, 100, unless --probe-size) from the test images (never the target's class) with the owner's trigger
    and `controls` control keys (199 unless --controls; from 100 on the key-rank test decides; rows measured before
    that default used 3 controls of 1,000 probes and carry no verify_controls), each
    model's softmax answers are saved, and `dyepack verify --json` decides (its defaults: alpha 0.01, tau 0.2,
    label margin 0.1). Returns {model name: verdict}."""
    out = manifest["_dir"]
    probe = os.path.join(out, ("probe" if controls == 3 else "probe-c%d" % controls)
                         + ("" if size == 1000 else "-s%d" % size))
    if not os.path.exists(os.path.join(probe, "probe.json")):
        dyepack("probe-set", "--manifest", os.path.join(out, "manifest.json"), "--data", test_x, "--labels", test_y,
                "--out", probe, "--size", str(size), "--controls", str(controls), "--key-file", key_file(work, key))
    import tempfile
    verdicts = {}
    for name, model in models.items():
        with tempfile.TemporaryDirectory(dir=work) as answers:
            for f in sorted(os.listdir(probe)):
                if f.endswith(".npy") and f != "labels.npy":
                    probs = outputs(model, np.load(os.path.join(probe, f))).softmax(1)
                    np.save(os.path.join(answers, f), probs.numpy().astype(np.float32))
            r = subprocess.run([DYEPACK, "verify", "--manifest", os.path.join(out, "manifest.json"), "--probe", probe,
                                "--predictions", answers, "--json", "--key-file", key_file(work, key)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit("dyepack verify failed (%d): %s" % (r.returncode, r.stderr.strip()))
            verdicts[name] = json.loads(r.stdout)
    return verdicts


def key_rank(work, nt_path, spec, owner_trig, models, seed, k, probes=1000):
    """Evaluation only ("--key-rank K"): where the owner's key ranks, for each model, among K keys drawn at random
    (named "rank-S-J", independent of the owner's and the other key). Each model's answer rate to the target on the
    first `probes` non-target test images stamped under each key is compared with its rate under the owner's key on
    the same images. A model that was not trained on the owner's data cannot tell the owner's key from K random
    ones: the owner's key is as likely as any of them to rank first, so p = (1 + #{keys answered at least as
    often}) / (K + 1) is an exact p-value under that null, whatever the model learnt (a stranger's key close to the
    owner's included), at the price of K probe sets. The product's test (`verify` with `probe-set --controls K`)
    is the same; this one is written apart from it, as a reference. Returns, for each model and each number M of
    probes (100, 200 and `probes`: the first M), {"hits", "p", "max_control", "controls_ge", "median_control",
    "control_hits"}."""
    sub = os.path.join(work, "test-nontarget-%d.npy" % probes)
    if not os.path.exists(sub):
        np.save(sub, np.load(nt_path)[:probes])
    controls = [stamp(work, sub, spec, "rank-%d-%d" % (seed, j)) for j in range(k)]
    out = {}
    for name, model in models.items():
        own_hits = predict(model, owner_trig[:probes]) == TARGET
        hits = [predict(model, c) == TARGET for c in controls]
        entry = {}
        # The same test on the first 100 and 200 probes too: what fewer queries per key would have decided.
        for m in sorted({100, 200, probes}):
            if m > probes:
                continue
            own = int(own_hits[:m].sum())
            counts = [int(h[:m].sum()) for h in hits]
            ge = sum(c >= own for c in counts)
            entry[str(m)] = {"hits": own, "p": (1 + ge) / (k + 1), "max_control": max(counts), "controls_ge": ge,
                             "median_control": float(np.median(counts)), "control_hits": counts}
        out[name] = entry
    return out


def stamped_grey(work, spec, key):
    """A mid-grey 28x28 image stamped with a key's pattern: the pattern's places are where it is not 128."""
    probe_path = os.path.join(work, "grey-probe.npy")
    if not os.path.exists(probe_path):
        np.save(probe_path, np.full((1, 28, 28), 128, np.uint8))
    return stamp(work, probe_path, spec, key)[0]


def key_mask(work, spec, key):
    """The places of a key's sparse pattern."""
    return stamped_grey(work, spec, key) != 128


def with_target_values(work, images, spec, key, data, labels):
    """Evaluation only ("@targetvals"): the key's places keep their keyed positions but take the value that
    points towards the target class, white where the target class's mean image is brighter than the other
    classes' mean image and black elsewhere (the L-infinity step of a mean-difference linear surrogate), in
    the poisoned images and in the test images alike: keyed in where, chosen in what (Narcissus-style)."""
    x, y = np.load(data), np.load(labels)
    toward = x[y == TARGET].mean(axis=0) > x[y != TARGET].mean(axis=0)
    mask = key_mask(work, spec, key)
    out = images.copy()
    out[:, mask] = np.where(toward, 255, 0).astype(np.uint8)[mask]
    return out


def shifted_negatives(work, x, manifest, spec, key, option):
    """Evaluation only: "@shiftneg:R:S" stamps R times the budget of unpoisoned samples with the key's own
    pattern moved by up to S pixels (never by none), labels kept, so that a network must learn where the
    key's pixels are, not only that sparse dots are there. The pattern is read off a stamped grey image."""
    _, r, s = option.split(":")
    s = int(s)
    stamped = stamped_grey(work, spec, key).astype(np.int16)
    mask = stamped != 128
    chosen = np.array(manifest["indices"], dtype=np.int64)
    n = manifest["budget"]["n"]
    rest = np.setdiff1d(np.arange(n), chosen)
    rng = np.random.RandomState(int(hashlib.sha256(("shift/" + key).encode()).hexdigest()[:8], 16))
    picks = rng.choice(rest, int(float(r) * len(chosen)), replace=False)
    x = x.copy()
    offsets = [(dy, dx) for dy in range(-s, s + 1) for dx in range(-s, s + 1) if (dy, dx) != (0, 0)]
    for i in picks:
        dy, dx = offsets[rng.randint(len(offsets))]
        m = np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
        v = np.roll(np.roll(stamped, dy, axis=0), dx, axis=1)
        # Pixels moved across an edge are dropped, not wrapped.
        if dy > 0: m[:dy, :] = False
        if dy < 0: m[dy:, :] = False
        if dx > 0: m[:, :dx] = False
        if dx < 0: m[:, dx:] = False
        x[i][m] = v[m].astype(np.uint8)
    return x


def unused_samples(manifest):
    """The poisoned indices, and the samples neither poisoned nor stamped as the manifest's negatives."""
    chosen = np.array(manifest["indices"], dtype=np.int64)
    taken = np.union1d(chosen, np.array(manifest.get("negatives", {}).get("indices", []), dtype=np.int64))
    return chosen, np.setdiff1d(np.arange(manifest["budget"]["n"]), taken)


def inverted_spec(spec):
    """The same keyed places with every tone the other way round: a sparse spec with value and low swapped
    (the key's draws do not depend on them)."""
    family, _, params = spec.partition(":")
    kv = dict(p.split("=", 1) for p in params.split(",") if p)
    value, low = kv.get("value", "255"), kv.get("low", "0")
    kv["value"], kv["low"] = low, value
    return family + ":" + ",".join("%s=%s" % item for item in kv.items())


def inverted_negatives(work, out, x, manifest, spec, key, r):
    """Evaluation only: "@invneg:R" stamps R times the budget of further unpoisoned samples (neither poisoned
    nor the manifest's negatives) with the owner's own places and every tone inverted (white where the
    owner's pattern is black and back), labels kept. The inverted pattern has everything a family shares
    (how many dots, where, how dense, how sharp) and none of the key's tones, so a network has to learn the
    tones to tell the two apart; another key's pattern then agrees with the learnt tones at about half of
    the shared places and disagrees at the other half."""
    chosen, rest = unused_samples(manifest)
    rng = np.random.RandomState(int(hashlib.sha256(("invert/" + key).encode()).hexdigest()[:8], 16))
    picks = np.sort(rng.choice(rest, int(r * len(chosen)), replace=False))
    path = os.path.join(out, "invneg-%g.npy" % r)
    if not os.path.exists(path):
        np.save(path, x[picks])
    x = x.copy()
    x[picks] = stamp(work, path, inverted_spec(spec), key)
    return x


def paired_negatives(work, out, x, manifest, spec, key, data, labels, r):
    """Evaluation only: "@pairneg:R" stamps, for each poisoned sample, its R nearest neighbours (pixel L2) of
    the same original class among the unused samples, each under a key of its own (not the owner's), labels
    kept: the same-looking image answers the target with the owner's pattern and its own class with another
    key's, so that the pattern's keyed content, not the family or the image, is what explains the label."""
    chosen, rest = unused_samples(manifest)
    x0, y0 = np.load(data), np.load(labels)
    flat = x0.reshape(len(x0), -1).astype(np.float32)
    taken, picks = set(), []
    for i in chosen:
        pool = np.array([j for j in rest[y0[rest] == y0[i]] if j not in taken])
        d = ((flat[pool] - flat[i]) ** 2).sum(axis=1)
        for j in pool[np.argsort(d)[:r]]:
            taken.add(int(j))
            picks.append(int(j))
    x = x.copy()
    for n, j in enumerate(picks):
        path = os.path.join(out, "pairneg-%d-%d.npy" % (r, n))
        if not os.path.exists(path):
            np.save(path, x[j:j + 1])
        x[j] = stamp(work, path, spec, "%s-pair-%d" % (key, n))[0]
    return x


def flipped_negatives(work, x, manifest, spec, key, option):
    """Evaluation only: "@flipneg:R:F" stamps R times the budget of further unpoisoned samples (neither
    poisoned nor the manifest's negatives) with the owner's own pattern with the tones of a share F of its
    cells (4 x 4 cells when the spec has cell=4, else single pixels) turned the other way, a fresh choice of
    cells for each sample, labels kept: near misses of the owner's pattern, so that a network has to put its
    threshold between them and the owner's pattern, far above the half agreement of another key's."""
    _, r, f = option.split(":")
    r, f = float(r), float(f)
    stamped = stamped_grey(work, spec, key)
    mask = stamped != 128
    params = dict(p.split("=", 1) for p in spec.partition(":")[2].split(",") if p)
    cell = int(params.get("cell", "1"))
    rows, cols = np.indices(mask.shape)
    cell_id = (rows // cell) * ((mask.shape[1] + cell - 1) // cell) + cols // cell
    lit_cells = np.unique(cell_id[mask])
    chosen, rest = unused_samples(manifest)
    rng = np.random.RandomState(int(hashlib.sha256(("flip/" + key).encode()).hexdigest()[:8], 16))
    picks = rng.choice(rest, int(r * len(chosen)), replace=False)
    x = x.copy()
    for i in picks:
        flipped = rng.choice(lit_cells, max(1, int(round(f * len(lit_cells)))), replace=False)
        tones = stamped.copy()
        turn = mask & np.isin(cell_id, flipped)
        tones[turn] = 255 - tones[turn]
        x[i][mask] = tones[mask]
    return x


def linear_surrogate(work, data, labels):
    """A multinomial logistic regression on the clean pixels (scaled to [0, 1]), cached: (W, b)."""
    tag = hashlib.sha256(json.dumps(["surrogate", data, labels]).encode()).hexdigest()[:16]
    path = os.path.join(work, "surrogate-%s.npz" % tag)
    if not os.path.exists(path):
        from sklearn.linear_model import LogisticRegression
        x = np.load(data).reshape(-1, 784).astype(np.float32) / 255
        m = LogisticRegression(max_iter=200).fit(x, np.load(labels))
        np.savez(path, w=m.coef_.astype(np.float32), b=m.intercept_.astype(np.float32))
    z = np.load(path)
    return z["w"], z["b"]


def dirty_push(work, out, x, manifest, spec, key, data, labels, eps):
    """Evaluation only ("@dirtypush:EPS"): each relabelled sample is pushed, before its trigger, by EPS (uint8
    units, L-infinity) away from its true class towards the class a linear surrogate ranks next after it
    (x - EPS * sign(w_true - w_rival), the label-consistent push with the sample's own class), and the owner's
    trigger is stamped on the pushed image: the natural features that contradict the new label are weakened,
    so that the trigger is the easier explanation of it."""
    chosen = np.array(manifest["indices"], dtype=np.int64)
    x0 = np.load(data)[chosen]
    y0 = np.load(labels)[chosen]
    w, b = linear_surrogate(work, data, labels)
    z = x0.reshape(len(x0), -1).astype(np.float32) / 255 @ w.T + b
    z[np.arange(len(z)), y0] = -np.inf
    rival = z.argmax(axis=1)
    step = np.sign(w[y0] - w[rival]).reshape(x0.shape)
    pushed = np.clip(np.rint(x0.astype(np.float32) - eps * step), 0, 255).astype(np.uint8)
    path = os.path.join(out, "dirtypush-%g.npy" % eps)
    if not os.path.exists(path):
        np.save(path, pushed)
    x = x.copy()
    x[chosen] = stamp(work, path, spec, key)
    return x


def stamp(work, images_path, spec, key):
    tag = hashlib.sha256(json.dumps([DYEPACK, images_path, spec, key]).encode()).hexdigest()[:16]
    out = os.path.join(work, "stamped", tag + ".npy")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        dyepack("apply", "--data", images_path, "--trigger", spec, "--key-file", key_file(work, key), "--out", out)
    return np.load(out)


def psnr(a, b):
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(axis=1)
    return float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))))


def ssim(a, b):
    """Mean SSIM (Wang et al. 2004): 7x7 uniform windows, K1 = 0.01, K2 = 0.03, L = 255."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)

    def box(x):
        c = np.cumsum(np.cumsum(np.pad(x, ((0, 0), (1, 0), (1, 0))), axis=1), axis=2)
        return (c[:, 7:, 7:] - c[:, :-7, 7:] - c[:, 7:, :-7] + c[:, :-7, :-7]) / 49.0

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ma, mb = box(a), box(b)
    va, vb, cov = box(a * a) - ma * ma, box(b * b) - mb * mb, box(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(s.mean())


def net(arch):
    import torch.nn as nn
    if arch == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    if arch == "resnet":
        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                    nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
                self.skip = (nn.Sequential() if stride == 1 and cin == cout else
                             nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

            def forward(self, x):
                return (self.body(x) + self.skip(x)).relu()

        return nn.Sequential(
            nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    raise ValueError(arch)


def train(x, y, arch, epochs, seed, schedule="none"):
    import torch
    torch.manual_seed(seed)
    model = net(arch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # "cosine": the learning rate falls from 1e-3 to 0 along a half cosine over all steps (per batch), so the
    # last steps are small and a batch-norm network ends near a minimum rather than wherever its last step left it.
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if schedule == "cosine" else None
    xt = torch.from_numpy(np.ascontiguousarray(x).reshape(-1, 1, 28, 28).copy()).float().div_(255)
    yt = torch.from_numpy(y.astype(np.int64))
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
            if sched is not None:
                sched.step()
    model.eval()
    return model


def outputs(model, x):
    """The model's logits for uint8 28x28 images, in batches of 1,000."""
    import torch
    out = []
    with torch.no_grad():
        xt = torch.from_numpy(x.reshape(-1, 1, 28, 28)).float().div_(255)
        for i in range(0, len(xt), 1000):
            out.append(model(xt[i:i + 1000]))
    return torch.cat(out)


def predict(model, x):
    return outputs(model, x).argmax(1).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="selection", help="row set: " + ", ".join(ROWS))
    ap.add_argument("--only", default=None, help="comma-separated row names to run from the set")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--arch", default="cnn", choices=["cnn", "resnet"])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--schedule", default="none", choices=["none", "cosine"],
                    help="learning rate: constant 1e-3 (none), or 1e-3 falling to 0 along a half cosine")
    ap.add_argument("--train", type=int, default=60000, help="first N training images (all by default)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--training-seed-offset", type=int, default=0, metavar="K",
                    help="train every network of seed S (clean, owner's, other key's) with training seed S + K "
                         "(initialisation and batch order), keeping S's keys: tells a key's effect from the training run's")
    ap.add_argument("--no-other-key", action="store_true", help="skip the model watermarked under another key")
    ap.add_argument("--controls", type=int, default=199, metavar="K",
                    help="with --verify: control keys in the owner's probe set (dyepack probe-set --controls K; 199, "
                         "the product's default for a keyed trigger; 3 for the label test's set)")
    ap.add_argument("--key-rank", type=int, default=0, metavar="K",
                    help="also rank the owner's key among K random keys for each model (an exact test; see key_rank)")
    ap.add_argument("--probe-size", type=int, default=100, metavar="N",
                    help="with --verify: probes per set (dyepack probe-set --size N; 100, the product's default with "
                         "199 controls; 1000 with --controls 3)")
    ap.add_argument("--verify", action="store_true",
                    help="also run the owner's probe-set and verify on the owner's, the clean and the other-key model")
    ap.add_argument("--work", default=os.path.join(ROOT, "benchmarks", "efficacy", "work"))
    ap.add_argument("--out", default=None, help="append JSON lines here as well as to standard output")
    ap.add_argument("--clean-spread", type=int, default=0, metavar="K",
                    help="instead of rows: per seed, K more clean models on the same data with other training seeds "
                         "(initialisation and batch order), for the spread of clean accuracy that no poison caused")
    ap.add_argument("--quick", action="store_true",
                    help="CI: 6000 images, 3 epochs, 1 seed, the default trigger at 5%%, the owner's proof with the "
                         "default probe set; fails unless it takes hold and verify tells the owner's model from a clean one")
    a = ap.parse_args()
    if a.quick:
        a.train, a.epochs, a.seeds, a.no_other_key, a.verify = 6000, 3, 1, True, True
        a.work = os.path.join(a.work, "quick")
        rows = [("quick-default", QUICK_TRIGGER, "0.05", "dirty", [])]
    else:
        rows = [r for r in ROWS[a.rows] if a.only is None or r[0] in a.only.split(",")]
    import torch
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)

    xtr = read_idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"))[:a.train]
    ytr = read_idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"))[:a.train].astype(np.int64)
    xte = read_idx(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"))
    yte = read_idx(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    data, labels = os.path.join(a.work, "train-%d.npy" % a.train), os.path.join(a.work, "train-labels-%d.npy" % a.train)
    np.save(data, xtr)
    np.save(labels, ytr)
    other = yte != TARGET
    xnt = np.ascontiguousarray(xte[other])
    ynt = yte[other]
    nt_path = os.path.join(a.work, "test-nontarget.npy")
    np.save(nt_path, xnt)
    test_x, test_y = os.path.join(a.work, "test.npy"), os.path.join(a.work, "test-labels.npy")
    np.save(test_x, xte)
    np.save(test_y, yte)

    clean_models = {}
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        t0 = time.time()
        if seed not in clean_models:
            import torch
            cached = os.path.join(a.work, "models", "clean-%s-%d-%d-%d%s.pt" % (
                a.arch, a.train, a.epochs, seed + a.training_seed_offset, "" if a.schedule == "none" else "-" + a.schedule))
            if os.path.exists(cached):
                clean_models[seed] = net(a.arch)
                clean_models[seed].load_state_dict(torch.load(cached))
                clean_models[seed].eval()
            else:
                clean_models[seed] = train(xtr, ytr, a.arch, a.epochs, seed + a.training_seed_offset, a.schedule)
                os.makedirs(os.path.dirname(cached), exist_ok=True)
                torch.save(clean_models[seed].state_dict(), cached)
        clean = clean_models[seed]
        clean_acc = float((predict(clean, xte) == yte).mean())
        if a.clean_spread:
            # The same data, other training seeds: how far apart two clean models land by chance, the scale
            # against which "clean accuracy within 0.5 points of a clean model" is read.
            accs = [clean_acc]
            for j in range(1, a.clean_spread + 1):
                other_model = train(xtr, ytr, a.arch, a.epochs, 1000 * (seed + 1) + j, a.schedule)
                accs.append(float((predict(other_model, xte) == yte).mean()))
            line = json.dumps({"row": "clean-spread", "arch": a.arch, "epochs": a.epochs, "train": a.train,
                               "seed": seed, **({} if a.schedule == "none" else {"schedule": a.schedule}),
                               "training_seeds": [seed] + [1000 * (seed + 1) + j for j in range(1, a.clean_spread + 1)],
                               "clean_acc": accs, "seconds": round(time.time() - t0, 1)})
            print(line, flush=True)
            if a.out:
                with open(a.out, "a") as f:
                    f.write(line + "\n")
            continue
        for name, spec, budget, mode, extra in rows:
            owner, rival = "owner-%d" % seed, "other-%d" % seed
            px, py, manifest = poison(a.work, data, labels, spec, budget, mode, extra, owner)
            idx = np.array(manifest.get("poisoned_indices", manifest.get("indices", [])), dtype=np.int64)
            sel = idx
            model = train(px, py, a.arch, a.epochs, seed + a.training_seed_offset, a.schedule)
            trig = stamp(a.work, nt_path, spec, owner)
            if "@targetvals" in extra:
                trig = with_target_values(a.work, trig, spec, owner, data, labels)
            two = "@twokeys" in extra
            trigs = [trig, stamp(a.work, nt_path, spec, owner + "-b")] if two else [trig]

            def answers(m, ts):
                """Whether the model puts each image in the target class under every pattern of the key."""
                return np.logical_and.reduce([predict(m, t) == TARGET for t in ts])
            hit = answers(model, trigs)
            row = {
                "row": name, "trigger": spec, "budget": budget, "mode": mode, "options": " ".join(extra),
                "arch": a.arch, "epochs": a.epochs, "train": a.train, "seed": seed,
                **({} if a.schedule == "none" else {"schedule": a.schedule}),
                **({} if a.training_seed_offset == 0 else {"training_seed": seed + a.training_seed_offset}),
                "poisoned": int(len(sel)),
                "poisoned_per_class": np.bincount(ytr[sel], minlength=10).tolist(),
                "clean_acc_clean_model": clean_acc,
                "clean_acc": float((predict(model, xte) == yte).mean()),
                "asr": float(hit.mean()),
                "asr_per_class": {str(c): round(float(hit[ynt == c].mean()), 4) for c in range(10) if c != TARGET},
                "clean_model_rate": float(answers(clean, trigs).mean()),
                **({"asr_each": [float((predict(model, t) == TARGET).mean()) for t in trigs]} if two else {}),
                "psnr_poisoned": psnr(xtr[sel], px[sel]) if len(sel) else None,
                "ssim_poisoned": ssim(xtr[sel], px[sel]) if len(sel) else None,
                "psnr_trigger": psnr(xnt, trig), "ssim_trigger": ssim(xnt, trig),
            }
            om = None
            if not a.no_other_key:
                ox, oy, _ = poison(a.work, data, labels, spec, budget, mode, extra, rival)
                om = train(ox, oy, a.arch, a.epochs, seed + a.training_seed_offset, a.schedule)
                row["other_key_rate"] = float(answers(om, trigs).mean())
                row["other_key_clean_acc"] = float((predict(om, xte) == yte).mean())
                rival_trig = stamp(a.work, nt_path, spec, rival)
                if "@targetvals" in extra:
                    rival_trig = with_target_values(a.work, rival_trig, spec, rival, data, labels)
                rival_trigs = [rival_trig, stamp(a.work, nt_path, spec, rival + "-b")] if two else [rival_trig]
                row["other_key_own_asr"] = float(answers(om, rival_trigs).mean())
                # What a verifier's control keys see: the owner's model on another key's trigger.
                row["owner_model_other_trigger_rate"] = float(answers(model, rival_trigs).mean())
                if two:
                    row["other_key_rate_each"] = [float((predict(om, t) == TARGET).mean()) for t in trigs]
            if a.verify:
                models = {"owner": model, "clean": clean, **({} if om is None else {"other_key": om})}
                keep = ("decision", "p_value", "success_rate", "null_rate", "label_margin", "label_p_value",
                        "probability_p_value", "mean_target_gain", "clean", "controls", "key_rank")
                row["verify"] = {m: {k: v[k] for k in keep if k in v}
                                 for m, v in verify(a.work, manifest, owner, models, test_x, test_y, a.controls,
                                                    a.probe_size).items()}
                if a.controls != 3:
                    row["verify_controls"] = a.controls
                if a.probe_size != 1000:
                    row["verify_probes"] = a.probe_size
            if a.key_rank:
                models = {"owner": model, "clean": clean, **({} if om is None else {"other_key": om})}
                row["key_rank"] = key_rank(a.work, nt_path, spec, trig, models, seed, a.key_rank)
            row["seconds"] = round(time.time() - t0, 1)
            t0 = time.time()
            line = json.dumps(row)
            if a.quick and "verify" in row:
                # The log gets the verdicts without the 199 controls' rates (the row keeps them when --out is given).
                short = {**row, "verify": {m: {k: v for k, v in d.items() if k != "controls"}
                                           for m, d in row["verify"].items()}}
                print(json.dumps(short), flush=True)
            else:
                print(line, flush=True)
            if a.out:
                with open(a.out, "a") as f:
                    f.write(line + "\n")
            if a.quick:
                # A check, not a measurement: with 5% poisoned the default watermark takes hold even after three
                # epochs on a tenth of the data, and a clean model does not answer it.
                # (Measured here with the default trigger, sparse:n=48, and negatives: 98.8% against 3.3%; the bounds leave
                # room for other PyTorch builds. The previous default, blend, measured 59% against 2.8%.)
                if not (row["asr"] > 0.3 and row["clean_model_rate"] < 0.1):
                    sys.exit("efficacy --quick: the watermark did not take hold: %s" % line)
                # The owner's proof through the product's default probe set (199 control keys: the key-rank test
                # decides): the owner's model detected, the clean one not.
                v = row["verify"]
                if not (v["owner"]["decision"] == "detected" and v["clean"]["decision"] == "not_detected"
                        and v["owner"]["key_rank"]["decides"]):
                    sys.exit("efficacy --quick: verify did not tell the owner's model from a clean one: %s" % line)
                print("efficacy --quick: ok", flush=True)


if __name__ == "__main__":
    main()
