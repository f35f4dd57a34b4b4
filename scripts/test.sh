#!/usr/bin/env bash
# Runs every test: the native C ABI tests and the CUDA-vs-CPU comparison (ctest; the comparison
# reports itself skipped without a GPU), then the Java library and CLI tests (JUnit 5). GPU-tagged
# Java tests skip, and are reported as skipped, where no device answers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
mvn -B verify "$@"
