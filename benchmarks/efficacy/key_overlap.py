#!/usr/bin/env python3
"""How much of the owner's and the stranger's patterns coincide, beside how often the stranger answers the owner's.

For each seed of a `run.py` work folder, stamps a grey image with the trigger under owner-S and other-S (`dyepack
apply`), counts the pixels both keys set white and both set black, and measures how alike the two patterns are at the
scale a pooling network keeps (the correlation of their 4x4 means, and the share of 4x4 cells whose tone both keys
set alike), and prints them beside the crossing rates of a results file's row (docs/efficacy.md, section 27), then
Spearman's correlation with each direction of crossing over every pair given:

  DYEPACK=./dyepack /usr/bin/python3 benchmarks/efficacy/key_overlap.py \\
      --pair W1 results/key-variants-base-cnn.jsonl cells-n192-c4-neg2-0.2%-amd \\
      --pair W2 results/key-variants-ncm-cnn.jsonl cells-n192-c4-neg2-0.2%-ncm8
"""
import argparse
import json
import os
import sys

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the evaluation's stamping and keys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pair", nargs=3, action="append", required=True, metavar=("WORK", "RESULTS", "ROW"),
                    help="a run.py work folder (its keys), a results file and the row measured with those keys")
    ap.add_argument("--spec", default="sparse:n=192,cell=4")
    a = ap.parse_args()
    run.DYEPACK = os.environ.get("DYEPACK", run.DYEPACK)
    measures = {"shared white": [], "shared black": [], "4x4 mean correlation": [], "cell tones alike": []}
    crossing, reverse_crossing = [], []
    for work, results, row in a.pair:
        rates = {}
        for line in open(results):
            r = json.loads(line)
            if r["row"] == row:
                rates[r["seed"]] = (r["other_key_rate"], r.get("owner_model_other_trigger_rate"))
        grey = os.path.join(work, "grey-probe.npy")
        np.save(grey, np.full((1, 28, 28), 128, np.uint8))
        for seed in sorted(rates):
            owner, other = [run.stamp(work, grey, a.spec, "%s-%d" % (role, seed))[0]
                            for role in ("owner", "other")]
            white = int(((owner == 255) & (other == 255)).sum())
            black = int(((owner == 0) & (other == 0)).sum())
            po, pt = pooled(owner), pooled(other)
            corr = float(np.corrcoef(po.ravel(), pt.ravel())[0, 1])
            toned = (po != 0) & (pt != 0)
            alike = float((np.sign(po[toned]) == np.sign(pt[toned])).mean())
            cross, reverse = rates[seed]
            print("%s seed %d: shared white %d, shared black %d, 4x4 mean correlation %.2f, cell tones alike %.2f; "
                  "stranger's model on the owner's trigger %.1f%%, owner's model on the stranger's %.1f%%"
                  % (os.path.basename(work.rstrip("/")), seed, white, black, corr, alike, 100 * cross,
                     100 * (reverse or 0)))
            for name, value in zip(measures, (white, black, corr, alike)):
                measures[name].append(value)
            crossing.append(cross)
            reverse_crossing.append(reverse or 0)
    for name, values in measures.items():
        print("Spearman of %s over %d pairs: with the stranger on the owner's trigger %.2f, with the owner on the "
              "stranger's %.2f" % (name, len(crossing), spearmanr(values, crossing)[0],
                                   spearmanr(values, reverse_crossing)[0]))


def pooled(stamped_grey):
    """The pattern's 4x4 means around the grey (cut to whole cells): what a network that pools twice keeps."""
    x = stamped_grey.astype(np.float64) - 128
    h, w = (x.shape[0] // 4) * 4, (x.shape[1] // 4) * 4
    return x[:h, :w].reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3))


if __name__ == "__main__":
    main()
