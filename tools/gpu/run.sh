#!/usr/bin/env bash
# The GPU kit: tools/gpu/run.sh [--cpu] OUT
# Builds src/native against this machine's libtorch (a CUDA PyTorch's, found through `torch.utils.cmake_prefix_path`;
# with --cpu, Debian's libtorch as the normal build does), then runs the kit's checks (parity, bf16 step, bench, process
# group) within one 10-minute budget and writes OUT/report.json and OUT/report.md. Needs CMake, a C++ compiler and a
# python3 with torch; no .NET and no network when run from the bundle (`dotnet fsi build.fsx gpu-kit` makes it, in
# build/gpu-kit). Run from a checkout, it first makes the bundle (then .NET is needed). docs/gpu.md describes it.
# Environment: PYTHON (default: the first of python3, /usr/bin/python3 that imports torch), KIT_BUDGET_S (default 600,
# for the native build and the checks together), KIT_ARGS (extra arguments for the check program, e.g. "--models vit_s16").
set -euo pipefail

cpu=0
out=""
for a in "$@"; do
  case "$a" in
    --cpu) cpu=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $a (usage: run.sh [--cpu] OUT)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "run.sh: one OUT folder, got '$out' and '$a'" >&2; exit 2; }; out="$a" ;;
  esac
done
[ -n "$out" ] || { echo "usage: run.sh [--cpu] OUT" >&2; exit 2; }

kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -x "$kit/bin/Reproduce.GpuKit" ]; then
  # A checkout: make the bundle, then run its copy of this script.
  repo="$(cd "$kit/../.." && pwd)"
  [ -f "$repo/build.fsx" ] || { echo "run.sh: no bin/Reproduce.GpuKit beside this script and no checkout above it" >&2; exit 2; }
  (cd "$repo" && dotnet fsi build.fsx gpu-kit)
  exec "$repo/build/gpu-kit/run.sh" "$@"
fi

start=$(date +%s)
budget=${KIT_BUDGET_S:-600}

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then python="$p"; break; fi
  done
fi
[ -n "$python" ] || { echo "run.sh: no python3 with torch found (set PYTHON)" >&2; exit 2; }

cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "$cpu" = 0 ]; then
  prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  cuda="$("$python" -c 'import torch; print(int(torch.cuda.is_available()))')"
  [ "$cuda" = 1 ] || { echo "run.sh: $python's torch sees no CUDA device; use --cpu for the CPU checks" >&2; exit 2; }
  cmake_args+=(-DLIBTORCH_DIR="$prefix")
  # Gloo's headers, where the wheel carries them, and NCCL's (system, or the nvidia-nccl wheel): the process group.
  inc="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')"
  [ -f "$inc/gloo/config.h" ] && cmake_args+=(-DRN_GLOO_INCLUDE="$inc")
  nccl="$("$python" -c 'import os, nvidia.nccl as n; print(os.path.join(list(n.__path__)[0], "include"))' 2>/dev/null || true)"
  [ -n "$nccl" ] && [ -f "$nccl/nccl.h" ] && cmake_args+=(-DRN_NCCL_INCLUDE="$nccl")
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="$out/native-build"
echo "[kit] building src/native into $build (${cmake_args[*]})"
cmake -S "$kit/native" -B "$build" "${cmake_args[@]}" > "$out/native-build.log" 2>&1 \
  && cmake --build "$build" -j "$(nproc)" >> "$out/native-build.log" 2>&1 \
  || { tail -30 "$out/native-build.log" >&2; echo "run.sh: the native build failed; its log: $out/native-build.log" >&2; exit 1; }
grep -E "reproduce_native: " "$out/native-build.log" || true

left=$(( budget - ($(date +%s) - start) ))
[ "$left" -gt 30 ] || { echo "run.sh: the native build left ${left} s of the ${budget} s budget" >&2; exit 1; }
args=(--out "$out" --python "$python" --budget-s $(( left - 20 )))
[ "$cpu" = 1 ] && args+=(--cpu)
# shellcheck disable=SC2206
args+=(${KIT_ARGS:-})
echo "[kit] $kit/bin/Reproduce.GpuKit ${args[*]}"
REPRODUCE_NATIVE_LIB="$build/libreproduce_native.so" timeout --kill-after=10 "$left" "$kit/bin/Reproduce.GpuKit" "${args[@]}"
