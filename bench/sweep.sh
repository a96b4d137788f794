#!/usr/bin/env bash
# Sweep wall time with several runs at once (--jobs), side by side in one run: for each size, the five designs of
# the README's first command on cfg3f-l3 (1,000 steps, default evaluation), alternately `--jobs 1 --threads 2`
# (one run at a time on both threads) and `--jobs 2 --threads 2` (two runs at once, a thread each), REPEATS times
# each, in fresh output folders; prints every measurement, then the medians and the speedup of --jobs 2.
# Usage: bench/sweep.sh [REPEATS] [SIZES]   (defaults: 3, "tiny xs s tiny,xs,s": each size alone, then all three)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
SIZES=${2:-tiny xs s tiny,xs,s}
swift build -c release --product cfg-run >&2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
seconds() {  # wall seconds of one sweep with the given extra options
  local out="$T/run-$RANDOM$RANDOM.csv" start end
  start=$(date +%s.%N)
  .build/release/cfg-run grammars/cfg3f-l3.cfg --sizes "$1" --steps 1000 --out "$out" "${@:2}" 2>/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
printf 'size jobs1_threads2_s jobs2_threads2_s\n' >&2
for size in $SIZES; do
  for r in $(seq "$REPEATS"); do
    a=$(seconds "$size" --jobs 1 --threads 2)
    b=$(seconds "$size" --jobs 2 --threads 2)
    printf '%s %s %s\n' "$size" "$a" "$b"
  done
done | tee >(cat >&2) | awk -v digits=1 -v head="size        --jobs 1 (s)   --jobs 2 (s)   speedup of --jobs 2 (medians)" -f bench/medians.awk
