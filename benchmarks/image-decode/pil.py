"""PIL's decode of the files DecodeBench.java wrote, one process, images per second (best of 3).

Run: /usr/bin/python3 benchmarks/image-decode/pil.py DIR
"""
import glob, os, sys, time
import numpy as np
from PIL import Image

d = sys.argv[1]
for sub in sorted(os.listdir(d)):
    files = sorted(glob.glob(os.path.join(d, sub, "*")))
    data = [open(f, "rb").read() for f in files]
    import io
    best = 0
    for _ in range(3):
        t0 = time.perf_counter()
        for b in data:
            np.asarray(Image.open(io.BytesIO(b)))
        best = max(best, len(data) / (time.perf_counter() - t0))
    print(f"| {len(data):,} {sub} | PIL {Image.__version__} (`np.asarray(Image.open(...))`) | {best:,.0f} | - |")
