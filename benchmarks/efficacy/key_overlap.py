#!/usr/bin/env python3
"""How much of the owner's and the stranger's patterns coincide, beside how often the stranger answers the owner's.

For each seed of a `run.py` work folder, stamps a grey image with the trigger under owner-S and other-S (`dyepack
apply`), counts the pixels both keys set white and both set black, and prints them beside the crossing rates of a
results file's row (docs/efficacy.md, section 27), then Spearman's correlation over every pair given:

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
    shared_white, shared_black, crossing = [], [], []
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
            cross, reverse = rates[seed]
            print("%s seed %d: shared white %d, shared black %d; stranger's model on the owner's trigger %.1f%%, "
                  "owner's model on the stranger's %.1f%%" % (os.path.basename(work.rstrip("/")), seed, white, black,
                                                            100 * cross, 100 * (reverse or 0)))
            shared_white.append(white)
            shared_black.append(black)
            crossing.append(cross)
    print("Spearman with the crossing over %d pairs: shared white %.2f, shared black %.2f"
          % (len(crossing), spearmanr(shared_white, crossing)[0], spearmanr(shared_black, crossing)[0]))


if __name__ == "__main__":
    main()
