#!/usr/bin/env bash
# Makes sure a fresh machine has what DyePack's build needs: a JDK 17+, Maven, CMake 3.24+ and a C++17
# compiler. Installs what is missing from Debian's packages when run as root with apt-get available.
# The CUDA toolkit (nvcc) is optional: with it the GPU kernels are built too.
set -euo pipefail

missing=()
java_ok() {
  command -v javac >/dev/null 2>&1 || return 1
  local v
  v="$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')"
  [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 17))
}
java_ok || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)

if ((${#missing[@]})); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: nvcc found; the CUDA kernels will be built" >&2
else
  echo "setup: no nvcc; building the CPU backend only (install the CUDA toolkit for the GPU kernels)" >&2
fi
