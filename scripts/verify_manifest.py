#!/usr/bin/env python3
"""Verify a DyePack manifest (format dyepack-manifest/2) with Python's standard library only.

Usage: verify_manifest.py MANIFEST KEY_FILE [--files]
Exit status 0 and "valid" when the signature is the key's; 1 and "invalid: ..." otherwise.
With --files, also checks the SHA-256 of the output files (paths relative to the manifest's folder).
"""
import hashlib, hmac, json, os, sys

def hkdf_sha256(salt, ikm, info, length):  # RFC 5869
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + block, i + 1
    return out[:length]

def derive(key, purpose, length):
    return hkdf_sha256(b"dyepack-v1", key, b"dyepack/v1/" + purpose.encode(), length)

def jcs_number(x):  # ECMAScript Number.prototype.toString, as RFC 8785 requires
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities are not JSON")
    if x == 0:
        return "0"
    sign, r = ("-" if x < 0 else ""), repr(abs(x))  # repr: the shortest round-trip digits
    mantissa, _, exp = r.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + int(exp or 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    s = digits.rstrip("0")
    k = len(s)
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + s
    e = n - 1
    return sign + s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-") + str(abs(e))

def jcs_string(s):
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[c])
        elif c < " ":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return "".join(out) + '"'

def jcs(v):  # RFC 8785: sorted members (UTF-16 code units), no whitespace
    if v is None or v is True or v is False:
        return {None: "null", True: "true", False: "false"}[v]
    if isinstance(v, (int, float)):
        return jcs_number(v)
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(e) for e in v) + "]"
    names = sorted(v, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k]) for k in names) + "}"

def read_key(path):
    data = open(path, "rb").read()
    try:
        data.decode("utf-8")  # a text key loses ONE trailing newline, as DyePack reads it
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
    except UnicodeDecodeError:
        pass
    return data

def sha256_of(path):  # a file's SHA-256; a folder's: of "<relative path>\0<sha256>\n" per file, sorted
    if not os.path.isdir(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    files = sorted(os.path.relpath(os.path.join(d, n), path).replace(os.sep, "/").encode()
                   for d, _, names in os.walk(path) for n in names if os.path.isfile(os.path.join(d, n)))
    lines = b"".join(f + b"\0" + sha256_of(os.path.join(path, f.decode())).encode() + b"\n" for f in files)
    return hashlib.sha256(lines).hexdigest()

def verify(manifest_path, key_path, check_files=False):
    with open(manifest_path, "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    if doc.get("format") != "dyepack-manifest/2":
        return "unsupported format %r" % doc.get("format")
    key = read_key(key_path)
    fingerprint = "dpk1:" + derive(key, "fingerprint", 32)[:16].hex()
    if doc.get("key_fingerprint") != fingerprint:
        return "the manifest records key %s, the key given is %s" % (doc.get("key_fingerprint"), fingerprint)
    signature = doc.pop("signature", None)
    signed = jcs(doc).encode("utf-8")
    expected = hmac.new(derive(key, "manifest/signature", 32), signed, hashlib.sha256).hexdigest()
    if not isinstance(signature, str) or not hmac.compare_digest(expected, signature):
        return "signature does not match: the manifest was changed or signed with another key"
    for entry in doc["files"] if check_files else []:
        path = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), entry["path"])
        if entry["stage"] == "output" and sha256_of(path) != entry["sha256"]:
            return "%s differs from the recorded SHA-256" % entry["path"]
    return None

if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["--files"]):
        sys.exit("usage: verify_manifest.py MANIFEST KEY_FILE [--files]")
    try:
        problem = verify(sys.argv[1], sys.argv[2], sys.argv[3:] == ["--files"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeError) as e:
        problem = "cannot check: %s" % e
    print("valid" if problem is None else "invalid: " + problem)
    sys.exit(0 if problem is None else 1)
