#!/usr/bin/env python3
"""Regenerate DyePack's embedded default dataset from Debian's Fashion-MNIST.

Reads the first N (default 1000) test images and labels of Fashion-MNIST (Zalando Research, MIT
licence) in IDX format, as installed by Debian's `dataset-fashion-mnist` package, and writes

    java-bindings/data/src/main/resources/dev/dyepack/data/fashion-mnist-sample-images.npy.gz  uint8 (N, 28, 28)
    java-bindings/data/src/main/resources/dev/dyepack/data/fashion-mnist-sample-labels.npy.gz  uint8 (N,)

The .npy files are written by hand (the same 64-byte aligned version 1.0 header numpy.save uses)
so that the output does not depend on the NumPy version, and gzipped with mtime 0 and no file
name, so reruns give identical bytes for a given zlib. When NumPy is installed, the result is
loaded back with numpy.load and compared with the source as a check.

Usage: scripts/make-embedded-sample.py [--source DIR] [--out DIR] [--count N]
"""

import argparse
import gzip
import io
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"
DEFAULT_OUT = os.path.join(REPO, "java-bindings", "data", "src", "main", "resources", "dev", "dyepack", "data")
IMAGES_IDX = "t10k-images-idx3-ubyte.gz"
LABELS_IDX = "t10k-labels-idx1-ubyte.gz"


def read_idx(path, rank):
    """Return (dims, payload bytes) of an unsigned-byte IDX file of the given rank."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 + 4 * rank:
        sys.exit(f"{path}: too short for an IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim != rank:
        sys.exit(f"{path}: expected an unsigned-byte IDX file of rank {rank}, "
                 f"got type 0x{dtype:02x} rank {ndim}")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    payload = data[4 + 4 * rank:]
    expected = 1
    for d in dims:
        expected *= d
    if len(payload) != expected:
        sys.exit(f"{path}: header says {dims} = {expected} bytes but {len(payload)} follow")
    return dims, payload


def npy_bytes(descr, shape, payload):
    """A .npy version 1.0 file: magic, version, little-endian u16 header length, header, data."""
    shape_text = "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    unpadded = 10 + len(header) + 1
    header += " " * ((64 - unpadded % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("ascii") + payload


def write_gzip(path, data):
    """Deterministic gzip: mtime 0, no stored name, then an atomic rename into place."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def check_with_numpy(path, shape, payload):
    try:
        import numpy as np
    except ImportError:
        print("numpy not installed: skipped the numpy.load check")
        return
    with gzip.open(path, "rb") as f:
        arr = np.load(io.BytesIO(f.read()), allow_pickle=False)
    if arr.dtype != np.uint8 or arr.shape != tuple(shape) or arr.tobytes() != payload:
        sys.exit(f"{path}: numpy.load gives {arr.dtype} {arr.shape}, not what was written")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", default=DEFAULT_SOURCE, help="directory with the IDX .gz files")
    p.add_argument("--out", default=DEFAULT_OUT, help="resource directory to write")
    p.add_argument("--count", type=int, default=1000, help="number of test samples to take")
    args = p.parse_args()

    (n, h, w), pixels = read_idx(os.path.join(args.source, IMAGES_IDX), 3)
    (n_labels,), labels = read_idx(os.path.join(args.source, LABELS_IDX), 1)
    if n != n_labels or not 0 < args.count <= n:
        sys.exit(f"{n} images, {n_labels} labels: cannot take {args.count}")
    if max(labels) > 9:
        sys.exit("labels outside 0..9")

    k = args.count
    images = pixels[:k * h * w]
    labels = labels[:k]
    os.makedirs(args.out, exist_ok=True)
    outputs = [
        ("fashion-mnist-sample-images.npy.gz", (k, h, w), images),
        ("fashion-mnist-sample-labels.npy.gz", (k,), labels),
    ]
    for name, shape, payload in outputs:
        path = os.path.join(args.out, name)
        write_gzip(path, npy_bytes("|u1", shape, payload))
        check_with_numpy(path, shape, payload)
        print(f"wrote {path}: uint8 {shape}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
