#!/usr/bin/env python3
"""Boundary scoring with a prepared head: the engine against NumPy (OpenBLAS), in alternating rounds.

Each round runs, one after the other (the order turning each round, so that neither always runs first on
a machine that other work loads): NumPy on random normal features and head of the shape (the same
operations as `dyepack bench`'s peer: x @ w.T + b, the top two, the margin, the distance to every
boundary through norms computed before the timing, the least of them; best of REPEATS), and the engine
through `dyepack_bench score-op` (the same shape, random normal values, the head a resident operand whose
norms and layout are built before the timing, as a prepared head's are; best of REPEATS). With
--before DIR, a second build of the engine (for example the previous commit's) runs in the same rounds.
Both use every core (OpenBLAS's threads, the engine's), or one with --one-thread (OPENBLAS_NUM_THREADS=1
and one engine thread). Each also gives its best CPU time per call (the process's, all threads), which a
machine that other work loads disturbs much less than the wall time; with --one-thread it is the work of
the one thread each uses. The engine's hash of every output's bits must be the same for every build.

Usage: scripts/bench-score-rounds.py BUILD_DIR [--before DIR] [--rounds 3] [--repeats 5] [--one-thread]
       [N D C]   (default shape 10000 2048 1000, the wide head of `dyepack bench`)
"""
import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("build")
parser.add_argument("--before")
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--one-thread", action="store_true")
parser.add_argument("shape", type=int, nargs="*", default=[10000, 2048, 1000])
args = parser.parse_intermixed_args()
n, d, c = args.shape
if args.one_thread:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # read when NumPy loads OpenBLAS
import numpy as np  # noqa: E402

rng = np.random.default_rng(1)
x = rng.standard_normal((n, d), dtype=np.float32)
w = (rng.standard_normal((c, d), dtype=np.float32) * np.float32(0.05)).astype(np.float32)
b = rng.standard_normal(c, dtype=np.float32)
# The peer is the bench's own (bench-peers.py), so both time exactly the same NumPy work.
_spec = importlib.util.spec_from_file_location("bench_peers", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "java-bindings", "jobs", "src", "main", "resources", "dev",
    "dyepack", "job", "bench-peers.py"))
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)
norms = peers.head_norms(np, w)


def numpy_best():
    best = cpu = float("inf")
    for _ in range(args.repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        peers.score_once(np, x, w, b, norms)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu


def engine(build):
    out = subprocess.run([build + "/bin/dyepack_bench", "score-op", str(n), str(d), str(c), str(args.repeats),
                          "1" if args.one_thread else "0"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r": ([0-9.]+) ms .*CPU ([0-9.]+) ms.*hash ([0-9a-f]+)", out)
    return float(m.group(1)) / 1e3, float(m.group(2)) / 1e3, m.group(3)


flop = 2.0 * n * d * c
threads = "one thread each" if args.one_thread else "every core"
print(f"scoring {n} x {d}, {c} classes, prepared head, {threads}; best of {args.repeats} per round; wall (CPU) "
      f"times; NumPy {np.__version__}")
print("| round | load (1 min) | NumPy + OpenBLAS | engine" + (" before | engine" if args.before else "") +
      " | NumPy / engine, wall | NumPy / engine, CPU | engine GFLOP/s | output hash |")
print("|---|---|---|---" + ("|---" if args.before else "") + "|---|---|---|---|")
for r in range(args.rounds):
    load = open("/proc/loadavg").read().split()[0]
    jobs = [("numpy", None), ("engine", args.build)] + ([("before", args.before)] if args.before else [])
    if r % 2 == 1:
        jobs.reverse()
    res = {}
    for name, build in jobs:
        res[name] = numpy_best() if build is None else engine(build)
    ms = lambda t: f"{t[0] * 1e3:.1f} ms ({t[1] * 1e3:.0f} ms)"  # noqa: E731
    before = f" {ms(res['before'])} |" if args.before else ""
    hashes = res["engine"][2] + (" / " + res["before"][2] if args.before else "")
    print(f"| {r + 1} | {load} | {ms(res['numpy'])} |{before} {ms(res['engine'])} | "
          f"{res['numpy'][0] / res['engine'][0]:.2f}x | {res['numpy'][1] / res['engine'][1]:.2f}x | "
          f"{flop / res['engine'][0] / 1e9:.0f} | {hashes} |")
    sys.stdout.flush()
