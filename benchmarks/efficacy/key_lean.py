#!/usr/bin/env python3
"""Does a linear model of the clean data tell which keys' triggers a clean CNN already reads as the target?

Stamps the first 3,000 non-target test images with the trigger under the owners' keys of seeds 0-5 and under
control keys (`dyepack apply`, the evaluation's key derivation), then compares, per key, the share a logistic
regression fitted on the clean training images puts in class 0 with the share clean CNNs (one per training seed)
put there, by Spearman's rank correlation. Inputs come from a `run.py` work folder (docs/efficacy.md, section 23):

  DYEPACK=./dyepack /usr/bin/python3 benchmarks/efficacy/key_lean.py --work W --models M0.pt,M1.pt,... \
      [--spec sparse:n=192,cell=4] [--controls 24]
"""
import argparse
import os
import sys

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the evaluation's network, stamping and keys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="a run.py work folder with train-20000.npy and test-nontarget.npy")
    ap.add_argument("--models", required=True, help="comma-separated clean CNN state files (run.py's models/)")
    ap.add_argument("--spec", default="sparse:n=192,cell=4")
    ap.add_argument("--controls", type=int, default=24)
    a = ap.parse_args()
    run.DYEPACK = os.environ.get("DYEPACK", run.DYEPACK)
    x = np.load(os.path.join(a.work, "train-20000.npy"))
    y = np.load(os.path.join(a.work, "train-labels-20000.npy"))
    nt = np.load(os.path.join(a.work, "test-nontarget.npy"))[:3000]
    sub = os.path.join(a.work, "nt3000.npy")
    np.save(sub, nt)
    linear = LogisticRegression(max_iter=300).fit(x.reshape(len(x), -1) / 255.0, y)
    models = []
    for path in a.models.split(","):
        m = run.net("cnn")
        m.load_state_dict(torch.load(path))
        m.eval()
        models.append(m)
    names = ["owner-%d" % s for s in range(6)] + ["control-%d" % k for k in range(a.controls)]
    lin, cnn, per_model = [], [], []
    for name in names:
        st = run.stamp(a.work, sub, a.spec, name)
        lin.append(float((linear.predict(st.reshape(len(st), -1) / 255.0) == 0).mean()))
        rates = [float((run.predict(m, st) == 0).mean()) for m in models]
        cnn.append(float(np.mean(rates)))
        per_model.append(rates)
        print("%-11s linear %.3f  clean CNNs mean %.3f  (%s)" % (name, lin[-1], cnn[-1],
                                                              " ".join("%.3f" % r for r in rates)))
    rho, p = spearmanr(lin, cnn)
    print("Spearman, linear against the CNNs' mean, %d keys: %.2f (p %.3g)" % (len(names), rho, p))
    # Cheaper models of the data than a trained network (docs/efficacy.md, section 27).
    flat = x.reshape(len(x), -1) / 255.0
    means = np.stack([flat[y == c].mean(0) for c in range(int(y.max()) + 1)])
    stamped = {name: run.stamp(a.work, sub, a.spec, name) for name in names}

    def ncm(st):
        f = st.reshape(len(st), -1) / 255.0
        return float(((-2 * f @ means.T + (means ** 2).sum(1)[None]).argmin(1) == 0).mean())

    def conv_features(images, filters, k, pool):
        g = torch.Generator().manual_seed(7)
        w = torch.randn(filters, 1, k, k, generator=g)
        w = w - w.mean(dim=(2, 3), keepdim=True)
        w = w / w.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        with torch.no_grad():
            t = torch.from_numpy(images.reshape(-1, 1, 28, 28)).float().div_(255)
            h = torch.nn.functional.conv2d(t, w, padding=k // 2).relu()
            return torch.nn.functional.max_pool2d(h, pool).flatten(1).numpy()

    candidates = [("nearest class mean", ncm)]
    for filters, k, pool in ((16, 3, 2), (32, 5, 4), (64, 3, 4)):
        f = conv_features(x, filters, k, pool)
        mu, sd = f.mean(0), f.std(0) + 1e-6
        clf = LogisticRegression(max_iter=300).fit((f - mu) / sd, y)
        candidates.append(("random conv %d x %dx%d, max-pool %d, logistic" % (filters, k, k, pool),
                           lambda st, clf=clf, mu=mu, sd=sd, fk=(filters, k, pool):
                           float((clf.predict((conv_features(st, *fk) - mu) / sd) == 0).mean())))
    for n_train, epochs in ((len(x), 1), (5000, 2)):
        brief = run.train(x[:n_train], y[:n_train], "cnn", epochs, 99)
        candidates.append(("a CNN trained %d epoch(s) on %d images" % (epochs, n_train),
                           lambda st, m=brief: float((run.predict(m, st) == 0).mean())))
    for label, rate in candidates:
        rho, p = spearmanr([rate(stamped[name]) for name in names], cnn)
        print("Spearman, %s against the CNNs' mean: %.2f (p %.3g)" % (label, rho, p))
    # The CNNs among themselves: does a key's lean belong to the key or to the training run?
    r = np.array(per_model)
    pairs = [spearmanr(r[:, i], r[:, j])[0] for i in range(r.shape[1]) for j in range(i + 1, r.shape[1])]
    print("Spearman between the clean CNNs, pairs of training seeds: mean %.2f, %.2f to %.2f"
          % (np.mean(pairs), np.min(pairs), np.max(pairs)))


if __name__ == "__main__":
    main()
