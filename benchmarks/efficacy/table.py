#!/usr/bin/env python3
"""Markdown tables from run.py's JSON lines: one row per (row name, arch, train size), seeds averaged.

  python3 benchmarks/efficacy/table.py benchmarks/efficacy/results/*.jsonl
"""
import json
import sys
from collections import OrderedDict


def pct(values):
    if not values:
        return "-"
    m = 100 * sum(values) / len(values)
    if len(values) == 1:
        return "%.1f" % m
    return "%.1f (%s)" % (m, ", ".join("%.1f" % (100 * v) for v in values))


def main():
    groups = OrderedDict()
    for path in sys.argv[1:]:
        for line in open(path):
            if line.startswith("{"):
                r = json.loads(line)
                if "asr" not in r:
                    continue  # not a watermark row (run.py --clean-spread)
                arch = r["arch"] + (" (" + r["schedule"] + " lr)" if r.get("schedule") else "")
                groups.setdefault((r["row"], arch, r["train"], r["epochs"]), []).append(r)
    print("| row | trigger | budget | mode | options | net, train, epochs | seeds | clean acc (clean model) "
          "| attack success | clean model answers | other-key model answers | PSNR / SSIM of poisoned |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, arch, train, epochs), rs in groups.items():
        r0 = rs[0]
        print("| %s | `%s` | %s | %s | %s | %s, %d, %d | %s | %s (%s) | %s | %s | %s | %.1f dB / %.3f |" % (
            name, r0["trigger"], r0["budget"], r0["mode"], r0["options"] or "(default)", arch, train, epochs,
            ",".join(str(r["seed"]) for r in rs), pct([r["clean_acc"] for r in rs]),
            pct([r["clean_acc_clean_model"] for r in rs]), pct([r["asr"] for r in rs]),
            pct([r["clean_model_rate"] for r in rs]),
            pct([r["other_key_rate"] for r in rs if "other_key_rate" in r]),
            sum(r["psnr_poisoned"] for r in rs) / len(rs), sum(r["ssim_poisoned"] for r in rs) / len(rs)))
    print()
    print("Key-specificity (%, rows with a model watermarked under another key): the owner's model and the "
          "other-key model, each on its own key's trigger and on the other's:")
    print()
    print("| row | owner's model, owner's trigger | owner's model, other key's trigger | other-key model, own trigger "
          "| other-key model, owner's trigger | clean model, owner's trigger |")
    print("|---|---|---|---|---|---|")
    for (name, arch, train, epochs), rs in groups.items():
        ks = [r for r in rs if "other_key_rate" in r]
        if ks:
            print("| %s | %s | %s | %s | %s | %s |" % (
                name, pct([r["asr"] for r in ks]),
                pct([r["owner_model_other_trigger_rate"] for r in ks if "owner_model_other_trigger_rate" in r]),
                pct([r["other_key_own_asr"] for r in ks if "other_key_own_asr" in r]),
                pct([r["other_key_rate"] for r in ks]), pct([r["clean_model_rate"] for r in ks])))
    print()
    print("Attack success per source class (%, seeds averaged):")
    print()
    print("| row | net | " + " | ".join(str(c) for c in range(1, 10)) + " | poisoned per class (seed %s) |"
          % "first")
    print("|---|---|" + "---|" * 10)
    for (name, arch, train, epochs), rs in groups.items():
        cells = []
        for c in range(1, 10):
            v = [r["asr_per_class"][str(c)] for r in rs]
            cells.append("%.0f" % (100 * sum(v) / len(v)))
        print("| %s | %s | %s | %s |" % (name, arch, " | ".join(cells), rs[0]["poisoned_per_class"]))


if __name__ == "__main__":
    main()
