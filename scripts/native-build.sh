#!/usr/bin/env bash
# Builds and tests the native library alone, with the same CMake commands Maven runs.
# Usage: scripts/native-build.sh [AUTO|ON|OFF] [build-dir]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cuda="${1:-AUTO}"
build="${2:-$root/java-bindings/engine/target/native}"
set -x
# A build folder configured for another checkout (copied or moved) is removed first.
cmake -DSOURCE_DIR="$root/native" -DBUILD_DIR="$build" -P "$root/native/cmake/fresh-build-dir.cmake"
cmake -S "$root/native" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDYEPACK_CUDA="$cuda"
cmake --build "$build" --parallel "$(nproc)"
ctest --test-dir "$build" --output-on-failure
