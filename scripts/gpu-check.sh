#!/usr/bin/env bash
# The GPU check, in one call on a machine with an NVIDIA GPU, nvcc and CMake (no Java or network
# needed): build with CUDA ON, run the native tests (the CUDA-vs-CPU comparison must pass, not
# skip), compute-sanitizer memcheck and racecheck over the comparison, the blend benchmark beside a
# device-to-device copy, and (when a Java runtime was prepared, see scripts/gpu-check-prepare.sh)
# the GPU-tagged JUnit tests. Prints a short table last; logs go to $OUT (or ./gpu-check-out).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$root/gpu-check-out}"
build="${DYEPACK_GPU_BUILD:-/tmp/dyepack-gpu-build}"
mkdir -p "$out"
declare -a rows=()
status=0
step() { # name, log file, command...
  local name="$1" log="$out/$2"
  shift 2
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    rows+=("| $name | ok | $((SECONDS - t0)) s |")
  else
    local rc=$?
    rows+=("| $name | FAILED (exit $rc, see $(basename "$log")) | $((SECONDS - t0)) s |")
    status=1
  fi
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi failed"; } \
  | tee "$out/gpu.txt"
nvcc --version | tail -n 2 >>"$out/gpu.txt"

step "build (CUDA ON)" build.log bash -c "cmake -S '$root/native' -B '$build' -DCMAKE_BUILD_TYPE=Release -DDYEPACK_CUDA=ON \
  && cmake --build '$build' --parallel \$(nproc)"
# ctest counts a skip as success; the GPU programs must really run here, so run them directly too
# (a skip, exit 77, fails the step).
step "native tests (ctest)" ctest.log ctest --test-dir "$build" --output-on-failure
step "engine with a GPU" engine.log "$build/bin/dyepack_engine_test" with-gpu
step "CUDA vs CPU comparison" compare.log "$build/bin/dyepack_compare"
step "compute-sanitizer memcheck" memcheck.log compute-sanitizer --tool memcheck --leak-check full --error-exitcode 1 \
  "$build/bin/dyepack_compare" quick
step "compute-sanitizer racecheck" racecheck.log compute-sanitizer --tool racecheck --error-exitcode 1 \
  "$build/bin/dyepack_compare" quick
step "benchmark" bench.log "$build/bin/dyepack_bench" "${DYEPACK_BENCH_IMAGES:-10000}" 224 224 3 20
# The surrogate fit on the CPU and on the device, two shapes: each pair's weights hashes must be equal (the
# same head, bit for bit), or the step fails.
fit_pair() { # n d classes repeats
  local cpu gpu
  cpu="$("$build/bin/dyepack_bench" fit "$@" 0)" && gpu="$("$build/bin/dyepack_bench" fit "$@" 0 cuda)" || return 1
  echo "$cpu"
  echo "$gpu"
  [[ "${cpu##* }" == "${gpu##* }" ]] || { echo "the device fit's weights differ from the CPU fit's"; return 1; }
}
fit_pairs() { fit_pair 60000 784 10 3 && fit_pair 20000 1024 1000 1; }
step "fit benchmark" bench-fit.log fit_pairs
# Scoring: engine (CPU and CUDA) against NumPy/OpenBLAS and, with PyTorch, cuBLAS SGEMM + epilogue.
step "scoring benchmark" bench-score.log python3 "$root/scripts/bench-score.py" "$build" 10

java="$root/.gpu-check/jre/bin/java"
if [[ -x "$java" ]]; then
  cp="$(ls -d "$root"/.gpu-check/classpath/* | tr '\n' ':')$root/.gpu-check/test-classes"
  # Every GPU test must run and pass here: an aborted (skipped) one fails the step. The property tests
  # (jqwik) are not GPU tests, and their engine wants a writable target/ folder: left out.
  # The CUDA presets' JNI glue links the CUDA runtime of the machine's toolkit.
  export LD_LIBRARY_PATH="${CUDA_HOME:-/usr/local/cuda}/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  step "Java GPU tests (JUnit, tag gpu)" junit.log bash -c "'$java' -jar '$root/.gpu-check/junit-console.jar' execute \
    --class-path '$cp' --include-tag gpu --exclude-engine jqwik --scan-class-path --fail-if-no-tests --details=tree \
    && ! grep -Eq '[1-9][0-9]* tests (aborted|skipped)' '$out/junit.log'"
else
  rows+=("| Java GPU tests | not run (no .gpu-check/jre; see scripts/gpu-check-prepare.sh) | - |")
fi

echo
echo "## compare"
tail -n 3 "$out/compare.log"
echo
echo "## benchmark"
cat "$out/bench.log"
echo
echo "## fit benchmark"
cat "$out/bench-fit.log"
echo
echo "## scoring benchmark"
cat "$out/bench-score.log"
if [[ -f "$out/junit.log" ]]; then
  echo
  echo "## JUnit"
  grep -E "tests (successful|failed|skipped|found)" "$out/junit.log"
fi
echo
echo "## GPU check on $(head -n 1 "$out/gpu.txt")"
echo "| step | result | time |"
echo "|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $status
