#!/usr/bin/env bash
# Training speed, cfg-run against PyTorch on the CPU, side by side in one run: for each shape, alternately
# `cfg-run bench` and bench/torch_reference.py (same model: 3-gram hierarchical input, learned positions, V = 5,
# batch 16 x seq 256, 2 threads), REPEATS times each; prints every measurement, then the medians and the ratio.
# Usage: bench/train.sh [REPEATS]      Env: PYTHON (a Python with torch; default /work/torchenv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
PYTHON=${PYTHON:-/work/torchenv/bin/python}
swift build -c release --product cfg-run >&2
printf 'shape swift_tokens_per_s torch_tokens_per_s\n'
for shape in "2 64 2" "4 128 4" "6 256 4" "8 384 6"; do
  read -r L D H <<< "$shape"
  steps=$(( L * D > 1000 ? 5 : 10 ))
  for r in $(seq "$REPEATS"); do
    s=$(.build/release/cfg-run bench --layers "$L" --d "$D" --heads "$H" --batch 16 --seq 256 --steps "$steps" \
        --threads 2 --input 3gram-hin --json | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
    t=$(OMP_NUM_THREADS=2 "$PYTHON" bench/torch_reference.py --layers "$L" --d "$D" --heads "$H" --batch 16 \
        --seq 256 --steps "$steps" --threads 2 --input hierarchical --n 3 --json | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
    printf '(%s,%s,%s) %s %s\n' "$L" "$D" "$H" "$s" "$t"
  done
done | tee >(cat >&2) | awk -f bench/medians.awk
