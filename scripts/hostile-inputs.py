#!/usr/bin/env python3
"""Writes the hostile inputs that scripts/hostile-battery.sh replays against the CLI.

Usage: hostile-inputs.py DIR
Standard library only. Every file is made from scratch (nothing is downloaded), small on disk even where
it declares something huge: a PNG declaring 40000x40000 pixels, a gzip IDX inflating to 10 GiB.
"""
import base64, gzip, io, os, random, struct, sys, zipfile, zlib

def npy(path, descr, shape, data, header_text=None, version=1):
    """A .npy file; header_text replaces the dict (to write a lying or malformed header)."""
    text = header_text if header_text is not None else "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, "(%s)" % "".join("%d," % d for d in shape) if len(shape) == 1 else "(%s)" % ", ".join(map(str, shape)))
    pre = 10 if version == 1 else 12
    total = pre + len(text) + 1
    total += (64 - total % 64) % 64
    body = text.encode("latin-1") + b" " * (total - pre - len(text) - 1) + b"\n"
    head = b"\x93NUMPY" + bytes([version, 0]) + (struct.pack("<H", len(body)) if version == 1 else struct.pack("<I", len(body)))
    with open(path, "wb") as f:
        f.write(head + body + data)

def idx(path, dims, data, opener=open):
    with opener(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + data)

def png(path, width, height, rows=None):
    """An 8-bit grey PNG; rows (bytes per row, filter byte included) may be fewer than the header declares."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xffffffff)
    raw = b"".join(rows) if rows is not None else b"".join(b"\0" + bytes([(x * 7 + y) % 256 for x in range(width)])
                                                        for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

def main(d):
    rnd = random.Random(12)
    n, h, w = 200, 8, 8
    images = bytes(rnd.randrange(256) for _ in range(n * h * w))
    labels = bytes(i % 10 for i in range(n))
    npy(f"{d}/good.npy", "|u1", (n, h, w), images)
    npy(f"{d}/good-labels.npy", "|u1", (n,), labels)
    npy(f"{d}/good-labels-i8.npy", "<i8", (n,), b"".join(struct.pack("<q", i % 10) for i in range(n)))
    # .npy: corrupt, truncated, bad magic, malformed header, a header that lies about the size, an object
    # dtype, a header nested 30,000 levels deep (a 60 KB header, format 2.0).
    with open(f"{d}/corrupt.npy", "wb") as f:
        f.write(bytes(rnd.randrange(256) for _ in range(4096)))
    with open(f"{d}/good.npy", "rb") as f:
        whole = f.read()
    with open(f"{d}/truncated.npy", "wb") as f:
        f.write(whole[: len(whole) // 2])
    with open(f"{d}/bad-magic.npy", "wb") as f:
        f.write(b"\x93NUMPZ" + whole[6:])
    npy(f"{d}/bad-header.npy", None, None, images, header_text="{'descr': '|u1', 'fortran_order': False, 'shape': (200, 8, 8), 'extra': oops")
    npy(f"{d}/size-lie.npy", "|u1", (100000, h, w), images)
    npy(f"{d}/object.npy", "|O", (n, h, w), images)
    npy(f"{d}/deep-header.npy", None, None, b"", version=2,
        header_text="{'descr': '|u1', 'fortran_order': False, 'shape': " + "(" * 30000 + ")" * 30000 + ", }")
    nan = struct.pack("<f", float("nan"))
    npy(f"{d}/nan-features.npy", "<f4", (n, 4), nan * (n * 4))
    # float32 images: one NaN in sample 3, and +infinity in every sample (whatever a key picks holds one).
    pixels = [float(b) for b in images]
    pixels[3 * h * w + 5] = float("nan")
    npy(f"{d}/nan-images.npy", "<f4", (n, h, w), b"".join(struct.pack("<f", v) for v in pixels))
    inf = [float("inf") if i % (h * w) == 7 else float(b) for i, b in enumerate(images)]
    npy(f"{d}/inf-images.npy", "<f4", (n, h, w), b"".join(struct.pack("<f", v) for v in inf))
    # A linear head (W: 10 x 4, b: 10) for those features, as an .npz.
    with zipfile.ZipFile(f"{d}/head.npz", "w") as z:
        for name, shape in (("W", (10, 4)), ("b", (10,))):
            npy(f"{d}/.part.npy", "<f4", shape, struct.pack("<f", 0.5) * (10 * (4 if name == "W" else 1)))
            z.write(f"{d}/.part.npy", name + ".npy")
        os.remove(f"{d}/.part.npy")
    # IDX: good, truncated, bad magic, a gzip stream of 10 GiB (concatenated members) behind a valid header.
    idx(f"{d}/good-images.idx", (n, h, w), images)
    idx(f"{d}/good-labels.idx", (n,), labels)
    with open(f"{d}/good-images.idx", "rb") as f:
        whole = f.read()
    with open(f"{d}/truncated.idx", "wb") as f:
        f.write(whole[: len(whole) // 2])
    with open(f"{d}/bad-magic.idx", "wb") as f:
        f.write(b"\x00\x01\x08\x03" + whole[4:])
    zeros = gzip.compress(b"\0" * (64 << 20), 9)
    with open(f"{d}/bomb.idx.gz", "wb") as f:
        f.write(gzip.compress(struct.pack(">BBBBIII", 0, 0, 8, 3, 10, 28, 28) + b"\0" * (64 << 20), 9))
        for _ in range(159):
            f.write(zeros)
    # Image folders: a good one, one with a PNG declaring 40000x40000 pixels (a few rows of data), one with a
    # truncated PNG after the first.
    for name in ("folder", "huge-png", "truncated-png"):
        for c in ("a", "b"):
            os.makedirs(f"{d}/{name}/{c}")
            for i in range(10):
                png(f"{d}/{name}/{c}/{c}{i:02d}.png", 8, 8)
    png(f"{d}/huge-png/b/b05.png", 40000, 40000, rows=[b"\0" * 40001] * 16)
    with open(f"{d}/truncated-png/b/b05.png", "rb") as f:
        head = f.read(45)
    with open(f"{d}/truncated-png/b/b05.png", "wb") as f:
        f.write(head)
    # JPEG folders (an 8x8 gray JPEG at quality 75, made for this battery) with one bad file after the first:
    # cut inside its scan, text named .jpg, and a PNG folder with a chunk whose CRC fails. Unchosen images are
    # copied without decoding, so these are caught by the structure check every copied file gets.
    small_jpeg = base64.b64decode(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0"
        "Hyc5PTgyPC4zNDL/wAALCAAIAAgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9"
        "AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZn"
        "aGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP0"
        "9fb3+Pn6/9oACAEBAAA/AMOv/9k=")
    for name in ("truncated-jpeg", "text-as-jpeg"):
        for c in ("a", "b"):
            os.makedirs(f"{d}/{name}/{c}")
            for i in range(10):
                with open(f"{d}/{name}/{c}/{c}{i:02d}.jpg", "wb") as f:
                    f.write(small_jpeg)
    with open(f"{d}/truncated-jpeg/b/b05.jpg", "wb") as f:
        f.write(small_jpeg[:-3])
    with open(f"{d}/text-as-jpeg/b/b05.jpg", "w") as f:
        f.write("not an image, only named like one\n")
    for c in ("a", "b"):
        os.makedirs(f"{d}/crc-png/{c}")
        for i in range(10):
            png(f"{d}/crc-png/{c}/{c}{i:02d}.png", 8, 8)
    with open(f"{d}/crc-png/b/b05.png", "r+b") as f:
        f.seek(-20, os.SEEK_END)
        byte = f.read(1)
        f.seek(-20, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0x55]))
    # Index lists: out of range, negative, not numbers.
    with open(f"{d}/indices-out-of-range.txt", "w") as f:
        f.write("1 2 200\n")
    with open(f"{d}/indices-negative.txt", "w") as f:
        f.write("1, -3\n")
    with open(f"{d}/indices-text.txt", "w") as f:
        f.write("one two\n")

if __name__ == "__main__":
    main(sys.argv[1])
