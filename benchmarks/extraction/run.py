#!/usr/bin/env python3
"""Answer marks against knockoff clones of PyTorch victims on Fashion-MNIST, through the product path.

Two victims (an MLP and the small CNN of benchmarks/efficacy) are trained on data watermarked by
`dyepack poison`. A thief queries each with a disjoint split of natural images (1k, 5k, 10k queries);
`dyepack mark` marks the answers (probabilities; default budget 1%; --prob-mark, default shift:0.5, names how a
marked answer is served) for client `thief`; knockoff clones are
trained on the served labels and on the served probabilities (soft-label cross-entropy): two widths of the
victim's architecture and the other architecture. `dyepack probe-set --marks` draws the probes and
`dyepack verify --marks --predictions` decides for every clone; beside it `dyepack verify` tests the same
clone for the data watermark (its probe set drawn from the test images by `dyepack probe-set --manifest`).
The MLP victim's CNN clones are trained at 5k queries only (--grid full adds 1k and 10k); --sweep adds label
clones trained for more epochs.
Independently trained honest models (true labels of other images, never the served answers) are the
negatives; the honest users' cost is the victims' test accuracy with and without marking; tracing puts the
thief among 99 other clients. docs/extraction.md holds the method and the results.

  /usr/bin/python3 benchmarks/extraction/run.py                 # the full run (about an hour, one thread)
  /usr/bin/python3 benchmarks/extraction/run.py --quick         # CI: one victim, one clone, 2 honest; pass/fail
  /usr/bin/python3 benchmarks/extraction/run.py --prob-mark swap --budgets 5000,10000 --phases clones,honest \
      --targets probabilities                                   # the swap as the shift's peer (same victims, queries)

Writes results.jsonl (one JSON object per model tested), table.md and extraction.png to --out. The owner's
key is derived from a fixed string (so a rerun marks the same queries), written with mode 0600 and handed
to the CLI with --key-file. Trained models are cached under --work/models; delete --work after changing the
code behind ./dyepack.
"""
import argparse
import gzip
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The command to run: the repository's ./dyepack (builds on first use), or another build given in DYEPACK.
DYEPACK = os.environ.get("DYEPACK", os.path.join(ROOT, "dyepack"))
FMNIST = "/usr/share/datasets/fashion-mnist"
TRIGGER = "blend:alpha=0.2,pattern=noise"
TARGET = 0
ALPHA = 0.01
# The thief's queries come from training images QUERY_FROM onwards; the victims never see them.
QUERY_FROM = 30000
BUDGETS = (1000, 5000, 10000)
# Architectures. The victims are "mlp-128" and "cnn-16" (the efficacy study's CNN: conv 16, conv 32, dense 128).
ARCHS = {
    "mlp-64": ("mlp", 64), "mlp-128": ("mlp", 128), "mlp-256": ("mlp", 256),
    "cnn-8": ("cnn", 8), "cnn-16": ("cnn", 16),
}
# Per victim: two widths of its own architecture, then the other architecture.
CLONES = {"mlp-128": ("mlp-64", "mlp-256", "cnn-16"), "cnn-16": ("cnn-8", "cnn-16", "mlp-256")}
# The grid's saving (a CNN clone costs 10-40x an MLP's on one thread): CNN clones are trained at 1k and 5k
# queries for the CNN victim and at 5k for the MLP victim, not at 10k. Every other (victim, budget, clone) is
# trained on labels and on probabilities. --grid full trains them all.
SKIP = {("mlp-128", 1000, "cnn-16"), ("mlp-128", 10000, "cnn-16"), ("cnn-16", 10000, "cnn-8"),
        ("cnn-16", 10000, "cnn-16")}

T0 = time.time()


def log(msg):
    print("[%6.0f s] %s" % (time.time() - T0, msg), file=sys.stderr, flush=True)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def dyepack(*args):
    r = subprocess.run([DYEPACK, args[0], "--quiet", *args[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit("dyepack %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def net(name):
    import torch.nn as nn
    kind, w = ARCHS[name]
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, w), nn.ReLU(), nn.Linear(w, 10))
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * w * 7 * 7, 8 * w), nn.ReLU(), nn.Linear(8 * w, 10))


def train(work, tag, x, y, arch, epochs, seed, batch=128):
    """Adam (lr 1e-3). y holds labels (N,) or target probabilities (N, 10) (soft-label cross-entropy,
    the knockoff attack on served probabilities). Cached under work/models by tag."""
    import torch
    path = os.path.join(work, "models", tag + ".pt")
    model = net(arch)
    if os.path.exists(path):
        model.load_state_dict(torch.load(path))
        model.eval()
        return model
    t = time.time()
    torch.manual_seed(seed)
    model = net(arch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt = torch.from_numpy(np.ascontiguousarray(x).reshape(-1, 1, 28, 28).copy()).float().div_(255)
    soft = y.ndim == 2
    yt = torch.from_numpy(y.astype(np.float32) if soft else y.astype(np.int64))
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            z = model(xt[idx])
            if soft:
                loss = -(yt[idx] * torch.log_softmax(z, 1)).sum(1).mean()
            else:
                loss = torch.nn.functional.cross_entropy(z, yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(model.state_dict(), path + ".tmp")
    os.replace(path + ".tmp", path)
    log("trained %s (%s, %d images, %d epochs) in %.0f s" % (tag, arch, len(x), epochs, time.time() - t))
    return model


def probs(model, x):
    import torch
    out = []
    with torch.no_grad():
        xt = torch.from_numpy(np.ascontiguousarray(x).reshape(-1, 1, 28, 28).copy()).float().div_(255)
        for i in range(0, len(xt), 1000):
            out.append(torch.softmax(model(xt[i:i + 1000]), 1).numpy())
    return np.concatenate(out).astype(np.float32)


PROB_MARK = "shift:0.5"


def mark_tag(name):
    """Cache names of logs and clones: the default mark's keep their old form, another mark's carry it."""
    return name if PROB_MARK == "shift:0.5" else "%s-%s" % (name, PROB_MARK.replace(":", ""))


def mark(work, log_dir, client, queries, answers, key):
    """`dyepack mark` on one client's batch; returns the served answers (probabilities)."""
    batch = os.path.join(work, "batches", "%s-%s" % (os.path.basename(log_dir), client))
    os.makedirs(batch, exist_ok=True)
    q, p, s = (os.path.join(batch, n) for n in ("q.npy", "p.npy", "served.npy"))
    np.save(q, queries)
    np.save(p, answers)
    if os.path.exists(s):
        os.remove(s)
    dyepack("mark", "--queries", q, "--answers", p, "--out", s, "--log", log_dir, "--client", client,
            "--prob-mark", PROB_MARK, "--key-file", key)
    return np.load(s)


def marked_log(work, name, batches, key):
    """A log holding the given (client, queries, answers) batches, in order, and its probe set; cached
    (a complete log is marked by a file, so an interrupted run starts the log again)."""
    name = mark_tag(name)
    log_dir = os.path.join(work, "logs", name)
    probe = log_dir + "-probe"
    done = log_dir + ".complete"
    served = {}
    if os.path.exists(done):
        for client, _, _ in batches:
            served[client] = np.load(os.path.join(work, "batches", "%s-%s" % (name, client), "served.npy"))
        return log_dir, probe, served
    for d in (log_dir, probe):
        shutil.rmtree(d, ignore_errors=True)
    for client, queries, answers in batches:
        served[client] = mark(work, log_dir, client, queries, answers, key)
    dyepack("probe-set", "--marks", log_dir, "--out", probe, "--key-file", key)
    open(done, "w").close()
    return log_dir, probe, served


def verify_marks(work, log_dir, probe, model):
    """The suspect's labels on the probe files, then `dyepack verify --marks --json`; then its probabilities, then
    `dyepack verify --marks --json` again (the label test and the gap test, combined per client by Holm). Beside
    them, for reference only: a one-sided Mann-Whitney test (scipy), pooled over clients, of the suspect's own
    probability gap (runner-up minus top class, as the log names them) on marked against control probes."""
    pred = os.path.join(work, "pred-marks-%d" % os.getpid())
    pred_p = os.path.join(work, "pred-marks-probs-%d" % os.getpid())
    for d in (pred, pred_p):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    record = json.load(open(os.path.join(probe, "probe.json")))
    gaps = {}
    for f in ("marked", "control"):
        p = probs(model, np.load(os.path.join(probe, f + ".npy")))
        np.save(os.path.join(pred, f + ".npy"), p.argmax(1).astype(np.int64))
        np.save(os.path.join(pred_p, f + ".npy"), p)
        rows = np.arange(len(p))
        gaps[f] = p[rows, record[f]["runner_up"]] - p[rows, record[f]["top"]]
    v = json.loads(dyepack("verify", "--marks", log_dir, "--probe", probe, "--predictions", pred,
                           "--alpha", str(ALPHA), "--json", "--key-file", KEY))
    vp = json.loads(dyepack("verify", "--marks", log_dir, "--probe", probe, "--predictions", pred_p,
                            "--alpha", str(ALPHA), "--json", "--key-file", KEY))
    best = vp["clients"][0] if vp["clients"] else {}
    row = {"p": v["p_value"], "detected": v["detected"], "implicated": v["implicated"],
           "marked_rate": v["pooled"]["marked_rate"], "control_rate": v["pooled"]["control_rate"],
           "clients": len(v.get("clients", [])),
           "gap_marked": float(np.median(gaps["marked"])), "gap_control": float(np.median(gaps["control"])),
           # With the suspect's probabilities: the product's verdict, and the best client's two tests.
           "p_probs": vp["p_value"], "detected_probs": vp["detected"], "implicated_probs": vp["implicated"],
           "decided_by": vp["decided_by"], "best_client": best.get("client"),
           "best_label_p": best.get("p_value"), "best_gap_p": best.get("gap_p_value"),
           "pooled_gap_p": vp["pooled"]["gap_p_value"]}
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:  # the reference test only; the product's verdicts above do not need it
        print("extraction: scipy is not installed, so the reference gap test (Mann-Whitney) is left out",
              file=sys.stderr)
        return row
    row["gap_p"] = float(mannwhitneyu(gaps["marked"], gaps["control"], alternative="greater").pvalue)
    return row


def verify_watermark(work, manifest, probe, model):
    """The suspect's labels on the data watermark's probe files, then `dyepack verify --json`."""
    pred = os.path.join(work, "pred-watermark-%d" % os.getpid())
    shutil.rmtree(pred, ignore_errors=True)
    os.makedirs(pred)
    for f in sorted(os.listdir(probe)):
        if f.endswith(".npy") and f != "labels.npy":
            np.save(os.path.join(pred, f), probs(model, np.load(os.path.join(probe, f))).argmax(1).astype(np.int64))
    v = json.loads(dyepack("verify", "--manifest", manifest, "--probe", probe, "--predictions", pred,
                           "--alpha", str(ALPHA), "--json", "--key-file", KEY))
    return {"wm_success": v["success_rate"], "wm_null": v["null_rate"], "wm_p": v["p_value"],
            "wm_detected": v["decision"] != "not_detected" and v["p_value"] < ALPHA}


def serve_log(work, name, victim, batches, key):
    """The tracing log, made by the marking proxy: `dyepack serve` in front of a small HTTP service that answers
    with the victim (base64 tensors: {"inputs": {uint8 (N, 28, 28)}} in, {"outputs": {float32 (N, 10)}} out, so
    the proxy runs with --request-path /inputs --response-path /outputs), each client sending its batches with
    its own API key. Returns the log, its probe set and each client's served answers (cached)."""
    import base64
    import socket
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import torch
    name = mark_tag(name)
    log_dir = os.path.join(work, "logs", name)
    probe = log_dir + "-probe"
    done = log_dir + ".complete"
    cache = os.path.join(work, "batches", name + "-served.npz")
    if os.path.exists(done):
        return log_dir, probe, dict(np.load(cache))
    for d in (log_dir, probe):
        shutil.rmtree(d, ignore_errors=True)
    lock = threading.Lock()

    class Upstream(BaseHTTPRequestHandler):
        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            t = req["inputs"]
            x = np.frombuffer(base64.b64decode(t["b64"]), np.uint8).reshape(t["shape"])
            with lock:
                p = probs(victim, x)
            body = json.dumps({"model": "victim", "outputs": {"dtype": "float32", "shape": list(p.shape),
                                                               "b64": base64.b64encode(p.tobytes()).decode()}})
            out = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    up = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    clients = os.path.join(work, "keys", name + "-clients.txt")
    with open(clients, "w") as f:
        for client in sorted({c for c, _ in batches}):
            f.write("apikey-%s %s\n" % (client, client))
    os.chmod(clients, 0o600)
    out = open(os.path.join(work, name + "-serve.out"), "w")
    proc = subprocess.Popen([DYEPACK, "serve", "--quiet", "--upstream", "http://127.0.0.1:%d/predict" % up.server_port,
                             "--port", str(port), "--log", log_dir, "--clients", clients, "--no-watch", "--prob-mark", PROB_MARK,
                             "--request-path", "/inputs", "--response-path", "/outputs", "--key-file", key],
                            stdout=out, stderr=subprocess.STDOUT)
    served = {}
    try:
        for attempt in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    sys.exit("dyepack serve stopped: see %s" % out.name)
                time.sleep(0.2)
        for client, x in batches:
            body = json.dumps({"inputs": {"dtype": "uint8", "shape": list(x.shape),
                                          "b64": base64.b64encode(np.ascontiguousarray(x).tobytes()).decode()}})
            req = urllib.request.Request("http://127.0.0.1:%d/" % port, data=body.encode(),
                                         headers={"X-API-Key": "apikey-" + client, "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as r:
                t = json.loads(r.read())["outputs"]
            p = np.frombuffer(base64.b64decode(t["b64"]), np.float32).reshape(t["shape"])
            served[client] = np.concatenate([served[client], p]) if client in served else p
    finally:
        proc.terminate()
        proc.wait(60)
        up.shutdown()
        out.close()
    np.savez(cache, **served)
    dyepack("probe-set", "--marks", log_dir, "--out", probe, "--key-file", key)
    open(done, "w").close()
    return log_dir, probe, served


KEY = None


def l1(served, answers):
    """The mean L1 distance between served and unmarked probability rows, over all answers and over the
    changed ones."""
    d = np.abs(served.astype(np.float64) - answers.astype(np.float64)).sum(1)
    changed = served.argmax(1) != answers.argmax(1)
    return {"l1_mean": float(d.mean()), "l1_changed": float(d[changed].mean()) if changed.any() else 0.0}


def main():
    global KEY, PROB_MARK
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="CI: the MLP victim on 6000 images, one label clone from 5000 queries, 2 honest models")
    ap.add_argument("--victims", default="cnn-16,mlp-128")
    ap.add_argument("--victim-images", type=int, default=20000, help="the victims' training images (the first N)")
    ap.add_argument("--victim-epochs", default="mlp-128:10,cnn-16:5")
    ap.add_argument("--clone-epochs", default="1000:40,5000:30,10000:30",
                    help="knockoff training epochs per query budget")
    ap.add_argument("--grid", choices=("main", "full"), default="main",
                    help="main: all but the MLP victim's CNN clones at 1k and 10k queries; full: all")
    ap.add_argument("--sweep", default="cnn-16:cnn-16:5000:60",
                    help="after the rest, extra label clones VICTIM:ARCH:QUERIES:EPOCHS[,...] (the clone's epochs); "
                         "'' for none")
    ap.add_argument("--honest", type=int, default=20)
    ap.add_argument("--honest-images", type=int, default=5000)
    ap.add_argument("--honest-epochs", type=int, default=10)
    ap.add_argument("--clients", type=int, default=100, help="clients in the tracing log, the thief included")
    ap.add_argument("--client-queries", type=int, default=500)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prob-mark", default=PROB_MARK, help="how marked answers are served (dyepack mark --prob-mark)")
    ap.add_argument("--budgets", default=",".join(map(str, BUDGETS)), help="the thief's query budgets")
    ap.add_argument("--targets", default="labels,probabilities", help="what clones are trained on")
    ap.add_argument("--archs", default="", help="only these clone architectures ('' for the grid's)")
    ap.add_argument("--phases", default="clones,sweep,honest,trace",
                    help="what to run (models and logs are cached): clones (victims and their clones), sweep, "
                         "honest, trace")
    ap.add_argument("--append", action="store_true", help="add to the results file rather than starting it anew")
    ap.add_argument("--work", default=os.path.join(ROOT, "benchmarks", "extraction", "work"))
    ap.add_argument("--out", default=None, help="results folder (default: WORK/results)")
    a = ap.parse_args()
    victim_epochs = dict((k, int(v)) for k, v in (s.split(":") for s in a.victim_epochs.split(",")))
    clone_epochs = dict((int(k), int(v)) for k, v in (s.split(":") for s in a.clone_epochs.split(",")))
    victims = a.victims.split(",")
    PROB_MARK = a.prob_mark
    budgets = tuple(int(b) for b in a.budgets.split(","))
    if a.quick:
        victims, budgets = ["mlp-128"], (5000,)
        a.victim_images, a.honest, a.clients = 6000, 2, 0
        victim_epochs["mlp-128"] = 5
        a.work = os.path.join(a.work, "quick")
    out = a.out or os.path.join(a.work, "results")
    import torch
    torch.set_num_threads(a.threads)
    os.makedirs(out, exist_ok=True)
    os.makedirs(os.path.join(a.work, "keys"), exist_ok=True)
    KEY = os.path.join(a.work, "keys", "owner.key")
    if not os.path.exists(KEY):
        fd = os.open(KEY, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(hashlib.sha256(b"dyepack-extraction/owner").digest())
    results = os.path.join(out, "results.jsonl")
    if os.path.exists(results) and not a.append:
        os.remove(results)
    phases = set(a.phases.split(","))

    def emit(row):
        line = json.dumps(row)
        print(line, flush=True)
        with open(results, "a") as f:
            f.write(line + "\n")

    xtr = read_idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"))
    ytr = read_idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = np.ascontiguousarray(read_idx(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz")))
    yte = read_idx(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    assert a.victim_images <= QUERY_FROM

    # The data watermark: the victims' training images poisoned with the CLI's defaults; its probe set is
    # drawn from the test images (held out from everyone).
    data = os.path.join(a.work, "victim-data.npy")
    labels = os.path.join(a.work, "victim-labels.npy")
    np.save(data, xtr[:a.victim_images])
    np.save(labels, ytr[:a.victim_images])
    poisoned = os.path.join(a.work, "poisoned")
    if not os.path.exists(os.path.join(poisoned, "manifest.json")):
        dyepack("poison", "--data", data, "--labels", labels, "--trigger", TRIGGER, "--target", str(TARGET),
                "--key-file", KEY, "--out", poisoned)
    manifest = os.path.join(poisoned, "manifest.json")
    test_x, test_y = os.path.join(a.work, "test.npy"), os.path.join(a.work, "test-labels.npy")
    np.save(test_x, xte)
    np.save(test_y, yte)
    wm_probe = os.path.join(a.work, "watermark-probe")
    if not os.path.exists(os.path.join(wm_probe, "probe.json")):
        # Three control keys of 1,000 probes (the label test), as docs/extraction.md measured it; the product's
        # default for a keyed trigger, 199 keys of 100 probes, would report the key-rank p-value instead.
        dyepack("probe-set", "--manifest", manifest, "--data", test_x, "--labels", test_y, "--out", wm_probe,
                "--controls", "3", "--key-file", KEY)
    px, py = np.load(os.path.join(poisoned, "data.npy")), np.load(os.path.join(poisoned, "labels.npy"))

    honest_logs = []
    traces = []
    for v in victims:
        victim = train(a.work, "victim-%s-%d-%d" % (v, a.victim_images, victim_epochs[v]), px, py, v,
                       victim_epochs[v], 1)
        test_p = probs(victim, xte)
        traces.append((v, victim, test_p))
        if "clones" in phases:
            # Honest users: the 10,000 test images answered as one client, with and without marks.
            _, _, served = marked_log(a.work, "users-%s" % v, [("users", xte, test_p)], KEY)
            acc = float((test_p.argmax(1) == yte).mean())
            acc_served = float((served["users"].argmax(1) == yte).mean())
            changed = float((served["users"].argmax(1) != test_p.argmax(1)).mean())
            row = {"kind": "victim", "victim": v, "model": v, "images": a.victim_images, "epochs": victim_epochs[v],
                   "test_acc": acc, "test_acc_served": acc_served, "answers_changed": changed,
                   "prob_mark": PROB_MARK}
            row.update(l1(served["users"], test_p))
            row.update(verify_watermark(a.work, manifest, wm_probe, victim))
            emit(row)

        clones = CLONES[v]
        for n in budgets:
            q = np.ascontiguousarray(xtr[QUERY_FROM:QUERY_FROM + n])
            answers = probs(victim, q)
            log_dir, probe, served = marked_log(a.work, "%s-%d" % (v, n), [("thief", q, answers)], KEY)
            s = served["thief"]
            archs = clones[:1] if a.quick else [c for c in clones if a.grid == "full" or (v, n, c) not in SKIP]
            archs = archs if "clones" in phases else []
            archs = [c for c in archs if not a.archs or c in a.archs.split(",")]
            for arch in archs:
                for target in (("labels",) if a.quick else tuple(a.targets.split(","))):
                    y = s.argmax(1) if target == "labels" else s
                    ep = clone_epochs[n]
                    clone = train(a.work, mark_tag("clone-%s-%d-%s-%s-%d" % (v, n, arch, target, ep)), q, y, arch,
                                  ep, 10 + clones.index(arch))
                    row = {"kind": "clone", "victim": v, "model": arch, "trained_on": target, "queries": n,
                           "epochs": ep, "answers_changed": float((s.argmax(1) != answers.argmax(1)).mean()),
                           "prob_mark": PROB_MARK, **l1(s, answers),
                           "test_acc": float((probs(clone, xte).argmax(1) == yte).mean())}
                    row.update(verify_marks(a.work, log_dir, probe, clone))
                    row.update(verify_watermark(a.work, manifest, wm_probe, clone))
                    emit(row)
            if n == max(budgets):
                honest_logs.append((v, log_dir, probe))

    # The clone's epochs: extra label clones, trained longer.
    for spec in (a.sweep.split(",") if a.sweep and not a.quick and "sweep" in phases else []):
        v, arch, n, ep = spec.split(":")
        n, ep = int(n), int(ep)
        if v not in victims:
            continue
        name = mark_tag("%s-%d" % (v, n))
        log_dir, probe = os.path.join(a.work, "logs", name), os.path.join(a.work, "logs", name + "-probe")
        s = np.load(os.path.join(a.work, "batches", "%s-thief" % name, "served.npy"))
        q = np.ascontiguousarray(xtr[QUERY_FROM:QUERY_FROM + n])
        clone = train(a.work, mark_tag("clone-%s-%d-%s-labels-%d" % (v, n, arch, ep)), q, s.argmax(1), arch, ep,
                      10 + CLONES[v].index(arch))
        row = {"kind": "clone", "victim": v, "model": arch, "trained_on": "labels", "queries": n, "epochs": ep,
               "prob_mark": PROB_MARK,
               "sweep": True, "test_acc": float((probs(clone, xte).argmax(1) == yte).mean())}
        row.update(verify_marks(a.work, log_dir, probe, clone))
        row.update(verify_watermark(a.work, manifest, wm_probe, clone))
        emit(row)

    # Honest models: true labels of other images, never the served answers; every one is tested against
    # each victim's largest log.
    for h in range(a.honest if "honest" in phases else 0):
        # 14 MLPs and 6 half-width CNNs (a CNN costs ~20x an MLP here).
        arch = "cnn-8" if (h % 2 == 1 and h < 12 and not a.quick) else "mlp-64"
        model = train(a.work, "honest-%d-%s-%d-%d" % (h, arch, a.honest_images, a.honest_epochs),
                      *sample(xtr, ytr, a.honest_images, 100 + h), arch, a.honest_epochs, 100 + h)
        for v, log_dir, probe in honest_logs:
            row = {"kind": "honest", "victim": v, "model": arch, "index": h + 1, "prob_mark": PROB_MARK,
                   "test_acc": float((probs(model, xte).argmax(1) == yte).mean())}
            row.update(verify_marks(a.work, log_dir, probe, model))
            emit(row)

    for v, victim, test_p in traces:
        if a.clients > 1 and "trace" in phases:
            # Tracing: the thief's 5,000 queries (ten requests of 500) among 99 other clients (500 test images each,
            # one request), in a shuffled order, through `dyepack serve`; an MLP-256 clone of the thief's served
            # labels (the clone architecture that fits its training answers closest here) and an honest model are
            # tested against every client, Holm-adjusted.
            rng = np.random.RandomState(5)
            batches = []
            for c in range(a.clients - 1):
                rows = np.sort(rng.choice(len(xte), a.client_queries, replace=False))
                batches.append(("client-%03d" % c, xte[rows]))
            q = np.ascontiguousarray(xtr[QUERY_FROM:QUERY_FROM + 5000])
            # The thief's requests go out in its own order (its answers are concatenated in the order received).
            slots = rng.permutation(len(batches) + 10)
            thief = iter(q[i:i + 500] for i in range(0, 5000, 500))
            others = iter(batches)
            sent = [("thief", next(thief)) if k >= len(batches) else next(others) for k in slots]
            log_dir, probe, served = serve_log(a.work, "%s-clients" % v, victim, sent, KEY)
            ep = clone_epochs[5000]
            arch = "mlp-256"
            clone = train(a.work, mark_tag("trace-%s-%s-%d" % (v, arch, ep)), q, served["thief"].argmax(1), arch, ep, 10)
            asked = {}
            for c, x in sent:
                asked[c] = np.concatenate([asked[c], x]) if c in asked else x
            changed = sum(int((served[c].argmax(1) != probs(victim, x).argmax(1)).sum()) for c, x in asked.items())
            row = {"kind": "trace", "victim": v, "model": arch, "trained_on": "labels", "queries": 5000,
                   "prob_mark": PROB_MARK,
                   "epochs": ep, "clients": a.clients,
                   "answers_changed": float((served["thief"].argmax(1) != probs(victim, q).argmax(1)).mean()),
                   "answers_changed_all_clients": changed / sum(len(x) for x in asked.values())}
            row.update(verify_marks(a.work, log_dir, probe, clone))
            emit(row)
            honest = train(a.work, "honest-trace-%s-%d" % (arch, a.honest_epochs),
                           *sample(xtr, ytr, a.honest_images, 999), arch, a.honest_epochs, 999)
            row = {"kind": "trace-honest", "victim": v, "model": arch, "clients": a.clients, "prob_mark": PROB_MARK}
            row.update(verify_marks(a.work, log_dir, probe, honest))
            emit(row)

    rows = [json.loads(l) for l in open(results)]
    write_table(rows, os.path.join(out, "table.md"), time.time() - T0)
    write_plot(rows, os.path.join(out, "extraction.png"))
    log("done: %s" % out)
    if a.quick:
        # A check, not a measurement (docs/extraction.md has the measurement): a clone of 5,000 marked answers
        # is detected and traced to the thief, no honest model is flagged, honest users lose about the budget.
        clone = [r for r in rows if r["kind"] == "clone"][0]
        honest = [r for r in rows if r["kind"] == "honest"]
        victim = [r for r in rows if r["kind"] == "victim"][0]
        # With the suspect's probabilities (both tests, Holm over the two) the same decisions.
        ok = (clone["p"] < 1e-4 and clone["implicated"] == ["thief"] and not any(r["detected"] for r in honest)
              and victim["test_acc"] - victim["test_acc_served"] <= 0.011
              and clone["implicated_probs"] == ["thief"] and not any(r["detected_probs"] for r in honest))
        if not ok:
            sys.exit("extraction --quick: failed: clone %s, honest %s, victim %s" % (clone, honest, victim))
        print("extraction --quick: ok", flush=True)


def sample(x, y, n, seed):
    """n training images other than the thief's 10,000, at random."""
    pool = np.concatenate([np.arange(0, QUERY_FROM), np.arange(QUERY_FROM + 10000, len(x))])
    rows = np.sort(np.random.RandomState(seed).choice(pool, n, replace=False))
    return x[rows], y[rows]


def fmt_p(p):
    return "%.2g" % p if p >= 1e-300 else "< 1e-300"


def write_table(rows, path, seconds):
    lines = []
    for r in rows:
        if r["kind"] == "victim":
            lines.append("- victim %s (%d images, %d epochs), marks %s: test accuracy %.4f, %.4f as served to honest "
                         "users (%.2f%% of answers changed; served probabilities moved by %.4f in L1 per answer on "
                         "average, %.3f per changed answer); data watermark: success %.3f against null %.3f, p = %s"
                         % (r["model"], r["images"], r["epochs"], r.get("prob_mark", "swap"), r["test_acc"],
                            r["test_acc_served"], 100 * r["answers_changed"], r.get("l1_mean", float("nan")),
                            r.get("l1_changed", float("nan")), r["wm_success"], r["wm_null"], fmt_p(r["wm_p"])))
    lines.append("")
    lines.append("| victim | marks | model | trained on | queries | epochs | test acc | runner-up on marked | on control "
                 "| marks p (Holm) | implicated | gap p (reference) | data watermark success | its p |")
    lines.append("|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for r in rows:
        if r["kind"] == "victim":
            continue
        name = {"clone": "clone %s", "trace": "clone %%s, among %d clients" % r.get("clients", 0),
                "trace-honest": "honest %%s, among %d clients" % r.get("clients", 0),
                "honest": "honest %%s #%d" % r.get("index", 0)}[r["kind"]] % r["model"]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %.3f | %.3f | %s | %s | %s | %s | %s |" % (
            r["victim"], r.get("prob_mark", "swap"), name, r.get("trained_on", "true labels"),
            r.get("queries", "-"), r.get("epochs", "-"),
            "%.3f" % r["test_acc"] if "test_acc" in r else "-", r["marked_rate"], r["control_rate"], fmt_p(r["p"]),
            ", ".join(r["implicated"]) or "none", fmt_p(r["gap_p"]) if "gap_p" in r else "-",
            "%.3f" % r["wm_success"] if "wm_success" in r else "-", fmt_p(r["wm_p"]) if "wm_p" in r else "-"))
    for mark in sorted({r.get("prob_mark", "swap") for r in rows if r["kind"] == "honest"}):
        honest = [r for r in rows if r["kind"] == "honest" and r.get("prob_mark", "swap") == mark]
        lines.append("")
        lines.append("honest models flagged at alpha %g (marks %s): %d of %d tests (%d models); smallest p = %s; "
                     "smallest gap p (reference) = %s" % (
                         ALPHA, mark, sum(r["detected"] for r in honest), len(honest), len({r["index"] for r in honest}),
                         fmt_p(min(r["p"] for r in honest)), fmt_p(min(r.get("gap_p", 1.0) for r in honest))))
    scored = [r for r in rows if r["kind"] != "victim" and "p_probs" in r]
    if scored:
        lines.append("")
        lines.append("With the suspect's probabilities (`dyepack verify --marks` on its (N, C) answers: the label test "
                     "and the gap test per client, Holm over the two, then Holm over the clients):")
        lines.append("")
        lines.append("| victim | marks | model | trained on | queries | p, labels only (Holm) | best client | its label p "
                     "| its gap p | p, both tests (Holm) | decided by | implicated |")
        lines.append("|---|---|---|---|---:|---:|---|---:|---:|---:|---|---|")
        for r in scored:
            name = {"clone": "clone %s", "trace": "clone %%s, among %d clients" % r.get("clients", 0),
                    "trace-honest": "honest %%s, among %d clients" % r.get("clients", 0),
                    "honest": "honest %%s #%d" % r.get("index", 0)}[r["kind"]] % r["model"]
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["victim"], r.get("prob_mark", "swap"), name, r.get("trained_on", "true labels"),
                r.get("queries", "-"), fmt_p(r["p"]), r["best_client"], fmt_p(r["best_label_p"]),
                fmt_p(r["best_gap_p"]), fmt_p(r["p_probs"]), r["decided_by"],
                ", ".join(r["implicated_probs"]) or "none"))
        honest = [r for r in scored if r["kind"] == "honest"]
        if honest:
            lines.append("")
            lines.append("honest models flagged at alpha %g with probabilities (both tests): %d of %d tests; smallest "
                         "p = %s" % (ALPHA, sum(r["detected_probs"] for r in honest), len(honest),
                                     fmt_p(min(r["p_probs"] for r in honest))))
    lines.append("")
    lines.append("run time %.0f s" % seconds)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_plot(rows, path):
    try:
        import matplotlib
    except ImportError:  # the table carries every number; the plot is a picture of it
        print("extraction: matplotlib is not installed, so %s is not drawn" % path, file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = [r for r in rows if r["kind"] in ("clone", "trace")]
    honest = [r for r in rows if r["kind"] == "honest"]
    labels, marks, wm = [], [], []
    for r in shown:
        suffix = ", 100 clients" if r["kind"] == "trace" else ", %d epochs" % r["epochs"] if r.get("sweep") else ""
        suffix += "" if r.get("prob_mark", "swap") == "shift:0.5" else ", %s marks" % r.get("prob_mark", "swap")
        labels.append("%s -> %s, %s, %dk%s" % (r["victim"], r["model"], "probs" if r["trained_on"] == "probabilities"
                                               else "labels", r["queries"] // 1000, suffix))
        marks.append(-math.log10(max(r["p"], 1e-300)))
        wm.append(-math.log10(max(r.get("wm_p", 1.0), 1e-300)))
    for v, m in sorted({(r["victim"], r.get("prob_mark", "swap")) for r in honest}):
        ps = [r["p"] for r in honest if r["victim"] == v and r.get("prob_mark", "swap") == m]
        labels.append("honest models vs %s log, %s marks (smallest p of %d)" % (v, m, len(ps)))
        marks.append(-math.log10(max(min(ps), 1e-300)))
        wm.append(0.0)
    y = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(labels) + 1.4))
    ax.barh(y - 0.2, marks, 0.4, color="#1f4e79", label="answer marks (dyepack verify --marks, Holm)")
    ax.barh(y + 0.2, wm, 0.4, color="#c8a200", label="data watermark (dyepack verify)")
    ax.axvline(2, color="#c0392b", lw=1)
    ax.axvline(6, color="#c0392b", lw=1, ls="--")
    ax.text(2.1, len(labels) - 0.4, "alpha 0.01", color="#c0392b", fontsize=7)
    ax.text(6.1, len(labels) - 0.4, "p = 1e-6", color="#c0392b", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("-log10 p")
    ax.set_title("Knockoff clones of PyTorch victims on Fashion-MNIST", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=110)
    os.replace(path + ".tmp.png", path)


if __name__ == "__main__":
    main()
