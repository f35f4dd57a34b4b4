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
                if "asr" not in r or "arch" not in r:
                    continue  # not a watermark row of run.py (run.py --clean-spread; the keyed_lowfreq.py screen)
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
    vs = [(name, arch, r) for (name, arch, train, epochs), rs in groups.items() for r in rs if "verify" in r]
    if vs:
        print()
        print("The owner's proof (`run.py --verify`: `dyepack probe-set`, 1,000 probes, 3 control keys; `dyepack verify "
              "--json` on softmax answers, alpha 0.01, tau 0.2): each model's success rate, the null rate (the largest "
              "99% upper bound over the clean probes and the controls), the label test's p, the probability test's p, "
              "and the decision (p the larger of the two; rows without a label margin were verified before `verify` had one); "
              "rows verified with 100 or more control keys (199 of 100 probes each, the default since section 20) add "
              "the key-rank test, which then decides alone: the owner's key's place among the keys (ties counted "
              "against it) and its p:")
        print()
        print("| row | seed | owner's model | clean model | other-key model |")
        print("|---|---|---|---|---|")

        def cell(v):
            if v is None:
                return "-"
            return "%s: %.1f%% vs %.1f%%, p %s / %s%s" % (
                "**detected**" if v["decision"] == "detected" else "not detected", 100 * v["success_rate"],
                100 * v["null_rate"], p(v["label_p_value"]),
                "-" if v["probability_p_value"] is None else p(v["probability_p_value"]),
                " (label margin %g)" % v["label_margin"] if v.get("label_margin") else "") + rank(v.get("key_rank"))

        def rank(k):
            if not k or not k.get("decides"):
                return ""
            return "; key rank %d of %d, p %s" % (k["at_least"] + 1, k["controls"] + 1, p(k["p_value"]))

        def p(x):
            return "0" if x == 0 else "1" if x == 1 else "%.2g" % x

        for name, arch, r in vs:
            v = r["verify"]
            print("| %s | %d | %s | %s | %s |" % (name, r["seed"], cell(v.get("owner")), cell(v.get("clean")),
                                                  cell(v.get("other_key"))))
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
