#!/usr/bin/env bash
# Compiles every kernel source in this folder to PTX for sm_80 with clang-14 and no CUDA SDK
# (the driver JIT-compiles sm_80 PTX for newer GPUs). Usage: build-ptx.sh [output-dir]
# (default: this folder, next to the sources; the PTX files are committed and embedded in Lab.Core).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
clang="${CLANG:-clang-14}"
mkdir -p "$out"
for src in "$here"/*.cu; do
  name="$(basename "$src" .cu)"
  "$clang" -x cuda --cuda-device-only --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -O3 \
    -Xclang -target-feature -Xclang +ptx70 -S "$src" -o "$out/$name.ptx"
  # A call to a function that libdevice would have provided leaves an .extern the driver cannot link.
  if grep -q '\.extern' "$out/$name.ptx"; then
    echo "build-ptx: $name.ptx calls an external function:" >&2
    grep '\.extern' "$out/$name.ptx" >&2
    exit 1
  fi
done
