#!/usr/bin/env bash
# Replays a battery of hostile inputs against the built CLI and checks DyePack's contract for each case
# (docs/security.md): the exit code (2 for an input problem, 4 for an untrusted record, never 1 or 70 for
# an input, never 0 for a hostile case), one last stderr line starting with "dyepack:", nothing left at the
# output path (no staging leftovers either), every input byte-for-byte unchanged, and time and memory
# bounds (a per-case timeout; the JVM capped by -Xmx and its peak resident memory measured).
#
# Builds nothing: it runs cli/target/dyepack.jar (or $DYEPACK_JAR); build it first (./dyepack info, or
# mvn package). Needs bash, python3 (standard library), coreutils' timeout, and /usr/bin/time for the
# memory check (skipped without it). Takes about a minute and a half.
#
#   scripts/hostile-battery.sh            # every case
#   scripts/hostile-battery.sh npy- idx-  # only the cases whose names start with these prefixes
#
# Environment: DYEPACK_BATTERY_JAVA_OPTS (default -Xmx512m, a serial collector, quick start-up), DYEPACK_BATTERY_MAX_RSS_MB (default 1536),
# DYEPACK_BATTERY_KEEP=1 keeps the work folder.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="${DYEPACK_JAR:-$root/cli/target/dyepack.jar}"
if [[ ! -f "$jar" ]]; then
  echo "hostile-battery: $jar is not built; run ./dyepack info (or mvn package) first" >&2
  exit 2
fi
java_opts=(${DYEPACK_BATTERY_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1})
max_rss_kb=$(( ${DYEPACK_BATTERY_MAX_RSS_MB:-1536} * 1024 ))
have_time=0
[[ -x /usr/bin/time ]] && have_time=1

# Cases known to fail, run and reported without failing the battery (a listed case that passes is
# reported as XPASS, to be removed). Empty: every case must pass.
EXPECTED_FAIL=()

work="$(mktemp -d "${TMPDIR:-/tmp}/dyepack-battery.XXXXXX")"
cleanup() { [[ "${DYEPACK_BATTERY_KEEP:-0}" == 1 ]] && echo "hostile-battery: kept $work" || rm -rf "$work"; }
trap cleanup EXIT
in="$work/in"     # every input: checked unchanged after every case
out="$work/out"   # outputs
mkdir -p "$in" "$out"
started=$SECONDS

dp() { java "${java_opts[@]}" -jar "$jar" "$@"; }

# --- inputs -------------------------------------------------------------------------------------------
python3 "$root/scripts/hostile-inputs.py" "$in" || { echo "hostile-battery: could not write the inputs" >&2; exit 2; }
head -c 32 /dev/urandom >"$in/owner.key"
head -c 32 /dev/urandom >"$in/thief.key"
mkfifo "$in/fifo"
truncate -s 8G "$in/huge-sparse.txt"
# The owner's poisoned outputs, the manifests a dispute would bring, and a probe set.
if ! dp poison --data "$in/good.npy" --labels "$in/good-labels.npy" --trigger blend:alpha=0.2,pattern=noise \
      --target 0 --select random --budget 10 --key-file "$in/owner.key" --out "$in/poisoned" >"$work/setup.log" 2>&1 \
   || ! dp poison --data "$in/folder" --trigger patch:size=2 --target 0 --select random --budget 2 \
      --allow-over-5-percent --key-file "$in/owner.key" --out "$in/poisoned-folder" >>"$work/setup.log" 2>&1 \
   || ! dp probe-set --manifest "$in/poisoned/manifest.json" --data "$in/good.npy" --labels "$in/good-labels.npy" \
      --size 20 --controls 1 --key-file "$in/owner.key" --out "$in/probe" >>"$work/setup.log" 2>&1; then
  cat "$work/setup.log" >&2
  echo "hostile-battery: the owner's setup runs failed" >&2
  exit 2
fi
for s in clean triggered control-1; do
  python3 - "$in/answers/$s.npy" <<'EOF'
import os, struct, sys
p = sys.argv[1]; os.makedirs(os.path.dirname(p), exist_ok=True)
text = "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 10), }"
pad = 64 - (10 + len(text) + 1) % 64
with open(p, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) + pad + 1) + text.encode() + b" " * pad + b"\n"
            + struct.pack("<f", float("nan")) * 200)
EOF
done
# Manifests: each in a copy of the poisoned folder, so that its relative paths resolve.
python3 - "$root/scripts" "$in" <<'EOF'
import hashlib, hmac, json, os, shutil, sys
sys.path.insert(0, sys.argv[1])
from verify_manifest import derive, jcs, read_key
d = sys.argv[2]
src = json.load(open(f"{d}/poisoned/manifest.json"))
owner, thief = read_key(f"{d}/owner.key"), read_key(f"{d}/thief.key")
def sign(doc, key, fingerprint_key):
    doc = {k: v for k, v in doc.items() if k != "signature"}
    doc["key_fingerprint"] = "dpk1:" + derive(fingerprint_key, "fingerprint", 32)[:16].hex()
    doc["signature"] = hmac.new(derive(key, "manifest/signature", 32), jcs(doc).encode(), hashlib.sha256).hexdigest()
    return doc
def place(name, doc=None, text=None):
    folder = f"{d}/m-{name}"
    shutil.copytree(f"{d}/poisoned", folder)
    with open(f"{folder}/manifest.json", "w") as f:
        f.write(text if text is not None else json.dumps(doc))
def pointing(path):
    doc = json.loads(json.dumps(src))
    for e in doc["files"]:
        if e["stage"] == "output" and e["role"] == "data":
            e["path"] = path
    return doc
tampered = dict(src, target_class=1)
place("tampered", tampered)
place("resigned-thief", sign(tampered, thief, thief))
place("resigned-owner-fingerprint", sign(tampered, thief, owner))
place("malformed", text=json.dumps(src)[:-40])
place("oversized", text="[" + "0," * (33 << 20) + "0]")
for name, path in (("dev-zero", "/dev/zero"), ("fifo", f"{d}/fifo"), ("environ", "/proc/self/environ"),
                   ("key-file", f"{d}/owner.key")):
    place("unsigned-" + name, pointing(path))
place("signed-dev-zero", sign(pointing("/dev/zero"), owner, owner))
place("signed-key-file", sign(pointing(f"{d}/owner.key"), owner, owner))
EOF
# The thief's doctored output: a symlinked class folder added to the poisoned image folder.
cp -r "$in/poisoned-folder" "$in/poisoned-folder-linked"
ln -s "$in/folder/a" "$in/poisoned-folder-linked/folder/zz"

# Every input's SHA-256; files over 1 MiB (the gzip bomb, the oversized manifest, the 8 GiB sparse file) by
# size, modification time and inode, which any write changes (hashing them after every case would be slow).
tree_sum() {
  (cd "$in" && { find . -type f -size -1025k -print0 | sort -z | xargs -0 sha256sum
                 find . -type f -size +1024k -print0 | sort -z | xargs -0 stat -c '%n %s %Y %i'; } | sha256sum)
}
input_sum="$(tree_sum)"
owner_key_sha="$(sha256sum "$in/owner.key" | cut -d' ' -f1)"

# --- the runner ---------------------------------------------------------------------------------------
passed=0; failed=0; xfailed=0; xpassed=0
failures=(); xpasses=()
filter=("$@")

expected_fail() { local c; for c in "${EXPECTED_FAIL[@]}"; do [[ "$c" == "$1" ]] && return 0; done; return 1; }
selected() {
  (( ${#filter[@]} == 0 )) && return 0
  local p; for p in "${filter[@]}"; do [[ "$1" == "$p"* ]] && return 0; done; return 1
}

# check NAME EXPECTED_CODES TIMEOUT_S OUTPUT_PATH|- [extra check function] -- ARGS...
# EXPECTED_CODES: one code or several separated by |. The extra check receives the case's log prefix.
check() {
  local name="$1" want="$2" limit="$3" target="$4"; shift 4
  local extra=""
  if [[ "$1" != "--" ]]; then extra="$1"; shift; fi
  shift # --
  selected "$name" || return 0
  local log="$work/logs/$name"; mkdir -p "$work/logs"
  # Each case starts with its output path free, so what is there afterwards is this case's.
  if [[ "$target" != - && "$target" == "$out"/* ]]; then
    rm -rf "$target" "$(dirname "$target")/.$(basename "$target")".dyepack-*
  fi
  local t0=$SECONDS rc
  if (( have_time )); then
    /usr/bin/time -f %M -o "$log.rss" timeout -s KILL "$limit" java "${java_opts[@]}" -jar "$jar" "$@" \
      >"$log.out" 2>"$log.err" </dev/null
  else
    timeout -s KILL "$limit" java "${java_opts[@]}" -jar "$jar" "$@" >"$log.out" 2>"$log.err" </dev/null
  fi
  rc=$?
  local problems=()
  if (( rc == 124 || rc == 137 )); then
    problems+=("did not finish within ${limit}s")
  elif [[ "|$want|" != *"|$rc|"* ]]; then
    problems+=("exit $rc, expected $want")
  fi
  if (( rc != 0 )); then
    local last; last="$(grep -v '^[[:space:]]*$' "$log.err" | tail -n 1)"
    [[ "$last" == dyepack:* ]] || problems+=("last stderr line is not 'dyepack: ...': ${last:0:160}")
  fi
  if [[ "$target" != - ]]; then
    [[ -e "$target" || -L "$target" ]] && problems+=("left $target")
    local stale; stale="$(find "$(dirname "$target")" -maxdepth 1 -name ".$(basename "$target").dyepack-*" 2>/dev/null)"
    [[ -n "$stale" ]] && problems+=("left ${stale//$'\n'/ }")
  fi
  [[ "$(tree_sum)" == "$input_sum" ]] || { problems+=("an input changed"); input_sum="$(tree_sum)"; }
  if (( have_time )) && [[ -s "$log.rss" ]]; then
    local rss; rss="$(tail -n 1 "$log.rss")"
    [[ "$rss" =~ ^[0-9]+$ ]] && (( rss > max_rss_kb )) && problems+=("peak memory $((rss / 1024)) MB over $((max_rss_kb / 1024)) MB")
  fi
  if grep -q "$owner_key_sha" "$log.out" "$log.err"; then problems+=("printed the SHA-256 of the owner's key file"); fi
  if [[ -n "$extra" ]]; then
    local more; more="$("$extra" "$log")"
    [[ -n "$more" ]] && problems+=("$more")
  fi
  local verdict detail="" secs=$((SECONDS - t0))
  (( ${#problems[@]} )) && detail="$(IFS=';'; echo " - ${problems[*]}")"
  if (( ${#problems[@]} == 0 )); then
    if expected_fail "$name"; then verdict=XPASS; xpassed=$((xpassed + 1)); xpasses+=("$name")
    else verdict=PASS; passed=$((passed + 1)); fi
  elif expected_fail "$name"; then verdict=XFAIL; xfailed=$((xfailed + 1))
  else verdict=FAIL; failed=$((failed + 1)); failures+=("$name$detail")
  fi
  printf '%-6s %-34s exit %-3s %3ss%s\n' "$verdict" "$name" "$rc" "$secs" "$detail"
}

# Extra checks.
no_hash_but_the_manifests() {
  # A verifier prints no SHA-256 that the manifest does not itself record (no hash oracle).
  local h; for h in $(grep -ohE '\b[0-9a-f]{64}\b' "$1.out" "$1.err" | sort -u); do
    grep -q "$h" "$CURRENT_MANIFEST" || { echo "printed a SHA-256 the manifest does not record ($h)"; return; }
  done
}
not_echoed() { grep -q "stolen-secret-value" "$1.out" "$1.err" && echo "echoed the secret given on the command line"; }
unchanged_dir() { [[ "$(cd "$out/occupied" && find . -type f -print0 | sort -z | xargs -0 sha256sum)" == "$occupied_sum" ]] \
  || echo "the existing output directory changed"; }

key=(--key-file "$in/owner.key")
poison_npy=(poison --labels "$in/good-labels.npy" --trigger patch:size=2 --select random --budget 10 "${key[@]}")

echo "hostile-battery: $(basename "$jar"), java ${java_opts[*]}, peak memory bound $((max_rss_kb / 1024)) MB"
# --- .npy --------------------------------------------------------------------------------------------
for f in corrupt truncated bad-magic bad-header size-lie object; do
  check "npy-$f" 2 20 "$out/a.npy" -- apply --data "$in/$f.npy" --trigger patch:size=2 --out "$out/a.npy"
done
check npy-deep-header 2 20 "$out/a.npy" -- apply --data "$in/deep-header.npy" --trigger patch:size=2 --out "$out/a.npy"
check npy-nan-features 2 20 "$out/p" -- poison --data "$in/good.npy" --labels "$in/good-labels.npy" \
  --trigger patch:size=2 --target 0 --features "$in/nan-features.npy" --head "$in/head.npz" "${key[@]}" --out "$out/p"
check npy-nan-images-apply 2 20 "$out/a.npy" -- apply --data "$in/nan-images.npy" --trigger patch:size=2 --out "$out/a.npy"
check npy-nan-images-boundary 2 20 "$out/p" -- poison --data "$in/nan-images.npy" --labels "$in/good-labels.npy" \
  --trigger patch:size=2 --target 0 "${key[@]}" --out "$out/p"
check npy-inf-images-random 2 20 "$out/p" -- poison --data "$in/inf-images.npy" --labels "$in/good-labels.npy" \
  --trigger patch:size=2 --target 0 --select random "${key[@]}" --out "$out/p"
check npy-labels-truncated 2 20 "$out/p" -- poison --data "$in/good.npy" --labels "$in/truncated.npy" \
  --trigger patch:size=2 --target 0 --select random "${key[@]}" --out "$out/p"
# --- IDX ---------------------------------------------------------------------------------------------
check idx-truncated 2 20 "$out/a.idx" -- apply --data "$in/truncated.idx" --trigger patch:size=2 --out "$out/a.idx"
check idx-bad-magic 2 20 "$out/a.idx" -- apply --data "$in/bad-magic.idx" --trigger patch:size=2 --out "$out/a.idx"
check idx-gzip-bomb 2 6 "$out/a.idx.gz" -- apply --data "$in/bomb.idx.gz" --trigger patch:size=2 --out "$out/a.idx.gz"
# --- triggers ----------------------------------------------------------------------------------------
i=0
for spec in patch:size=0 patch:size=99 patch:size=3,value=256 blend:alpha=2 blend:alpha=nan noise:eps=-1 \
            warp:k=0 sig:freq=1e40 'patch:size=2,size=3' nosuchfamily:x=1 'blend:image=/dev/zero' 'blend:image=/proc/self/environ'; do
  i=$((i + 1))
  check "trigger-$i-${spec%%[:=,]*}" 2 20 "$out/t.npy" -- apply --data "$in/good.npy" --trigger "$spec" "${key[@]}" --out "$out/t.npy"
done
# --- index lists -------------------------------------------------------------------------------------
for f in out-of-range negative text; do
  check "indices-$f" 2 20 "$out/i.npy" -- apply --data "$in/good.npy" --indices "$in/indices-$f.txt" --trigger patch:size=2 --out "$out/i.npy"
done
check indices-dev-zero 2 10 "$out/i.npy" -- apply --data "$in/good.npy" --indices /dev/zero --trigger patch:size=2 --out "$out/i.npy"
check indices-huge-sparse 2 10 "$out/i.npy" -- apply --data "$in/good.npy" --indices "$in/huge-sparse.txt" --trigger patch:size=2 --out "$out/i.npy"
# --- image folders -----------------------------------------------------------------------------------
check folder-huge-declared-png 2 30 "$out/f" -- poison --data "$in/huge-png" --trigger patch:size=2 --target 0 \
  --select random --budget 2 --allow-over-5-percent "${key[@]}" --out "$out/f"
check folder-truncated-png 2 20 "$out/f" -- poison --data "$in/truncated-png" --trigger patch:size=2 --target 0 \
  --select random --budget 2 --allow-over-5-percent "${key[@]}" --out "$out/f"
for f in truncated-jpeg text-as-jpeg crc-png; do
  check "folder-$f" 2 20 "$out/f" -- poison --data "$in/$f" --trigger patch:size=2 --target 0 \
    --select random --budget 2 --allow-over-5-percent "${key[@]}" --out "$out/f"
done
# --- targets, numbers and keys -----------------------------------------------------------------------
check target-outside-labels 2 20 "$out/p" -- "${poison_npy[@]}" --data "$in/good.npy" --target 10 --out "$out/p"
check target-huge 2 20 "$out/p" -- "${poison_npy[@]}" --data "$in/good.npy" --labels "$in/good-labels-i8.npy" \
  --target 3000000 --out "$out/p"
check target-negative 2 20 "$out/p" -- "${poison_npy[@]}" --data "$in/good.npy" --target -1 --out "$out/p"
check target-fullwidth-digit 2 20 "$out/p" -- "${poison_npy[@]}" --data "$in/good.npy" --target ３ --out "$out/p"
check key-on-argv 2 20 "$out/p" not_echoed -- poison --data "$in/good.npy" --labels "$in/good-labels.npy" \
  --trigger patch:size=2 --target 0 --select random --key stolen-secret-value --out "$out/p"
check key-file-missing 2 20 "$out/p" -- poison --data "$in/good.npy" --labels "$in/good-labels.npy" \
  --trigger patch:size=2 --target 0 --select random --key-file "$in/no-such.key" --out "$out/p"
# --- manifests ---------------------------------------------------------------------------------------
for m in tampered resigned-thief resigned-owner-fingerprint malformed oversized unsigned-dev-zero unsigned-fifo \
         unsigned-environ unsigned-key-file signed-dev-zero signed-key-file; do
  CURRENT_MANIFEST="$in/m-$m/manifest.json"
  check "manifest-$m" 4 6 - no_hash_but_the_manifests -- manifest verify --manifest "$CURRENT_MANIFEST" "${key[@]}" --inputs
done
CURRENT_MANIFEST="$in/poisoned-folder-linked/manifest.json"
check verify-symlinked-class 4 20 - no_hash_but_the_manifests -- manifest verify --manifest "$CURRENT_MANIFEST" "${key[@]}"
check verify-nan-answers 2 20 "$out/report" -- verify --manifest "$in/poisoned/manifest.json" --probe "$in/probe" \
  --predictions "$in/answers" "${key[@]}" --report "$out/report"
check probe-set-tampered-manifest 4 20 "$out/probe" -- probe-set --manifest "$in/m-tampered/manifest.json" \
  --data "$in/good.npy" --labels "$in/good-labels.npy" --size 10 "${key[@]}" --out "$out/probe"
check probe-set-inf-images 2 20 "$out/probe" -- probe-set --manifest "$in/poisoned/manifest.json" \
  --data "$in/inf-images.npy" --labels "$in/good-labels.npy" --size 10 "${key[@]}" --out "$out/probe"
# --- outputs -----------------------------------------------------------------------------------------
check output-is-input 2 20 - -- apply --data "$in/good.npy" --trigger patch:size=2 --out "$in/good.npy"
check output-holds-input 2 20 - -- poison --data "$in/poisoned/data.npy" --labels "$in/poisoned/labels.npy" \
  --trigger patch:size=2 --target 0 --select random "${key[@]}" --out "$in/poisoned" --force
mkdir -p "$out/occupied"; echo "an earlier run's data" >"$out/occupied/data.npy"; echo "and labels" >"$out/occupied/labels.npy"
occupied_sum="$(cd "$out/occupied" && find . -type f -print0 | sort -z | xargs -0 sha256sum)"
check output-existing-directory 2 20 - unchanged_dir -- "${poison_npy[@]}" --data "$in/good.npy" --target 0 --out "$out/occupied"
check output-existing-directory-failing-force 2 20 - unchanged_dir -- poison --data "$in/truncated-png" \
  --trigger patch:size=2 --target 0 --select random --budget 2 --allow-over-5-percent "${key[@]}" --out "$out/occupied" --force
if selected output-concurrent-runs; then
  t0=$SECONDS
  dp "${poison_npy[@]}" --data "$in/good.npy" --target 0 --out "$out/both" >"$work/c1.log" 2>&1 & p1=$!
  dp "${poison_npy[@]}" --data "$in/good.npy" --target 0 --out "$out/both" >"$work/c2.log" 2>&1 & p2=$!
  wait $p1; r1=$?; wait $p2; r2=$?
  if (( (r1 == 0) + (r2 == 0) == 1 )) && dp manifest verify --manifest "$out/both/manifest.json" "${key[@]}" >/dev/null 2>&1 \
     && [[ "$(tail -n 1 "$work/c$(( r1 == 0 ? 2 : 1 )).log")" == "dyepack: output $out/both"* ]]; then
    printf '%-6s %-34s exit %-3s %3ss\n' PASS output-concurrent-runs "$r1/$r2" $((SECONDS - t0)); passed=$((passed + 1))
  else
    printf '%-6s %-34s exit %-3s %3ss - exactly one of two concurrent runs must succeed, the other name the output\n' \
      FAIL output-concurrent-runs "$r1/$r2" $((SECONDS - t0))
    failed=$((failed + 1)); failures+=("output-concurrent-runs")
  fi
fi

echo "hostile-battery: $passed passed, $failed failed, $xfailed expected failures, $xpassed unexpected passes in $((SECONDS - started))s"
if (( xfailed )); then
  echo "hostile-battery: expected to fail: ${EXPECTED_FAIL[*]}"
fi
if (( xpassed )); then
  echo "hostile-battery: XPASS (now passing; remove from EXPECTED_FAIL): ${xpasses[*]}"
fi
if (( failed )); then
  printf 'hostile-battery: FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
