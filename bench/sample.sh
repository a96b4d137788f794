#!/usr/bin/env bash
# KV-cached sampling speed, cfg-run against PyTorch on the CPU, side by side in one run: alternately
# `cfg-run bench --generate` and `bench/torch_reference.py --generate` (same model: (4,128,4), token input, learned
# positions, V = 5; 64 sequences of 128 tokens from token 0 at temperature 1; 2 threads), REPEATS times each;
# prints every measurement, then the medians and the ratio.
# Usage: bench/sample.sh [REPEATS]      Env: PYTHON (a Python with torch; default /work/torchenv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
PYTHON=${PYTHON:-/work/torchenv/bin/python}
swift build -c release --product cfg-run >&2
printf 'shape swift_tokens_per_s torch_tokens_per_s\n'
for r in $(seq "$REPEATS"); do
  s=$(.build/release/cfg-run bench --layers 4 --d 128 --heads 4 --generate --batch 64 --seq 128 --steps 3 \
      --input 1gram --threads 2 --json | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
  t=$(OMP_NUM_THREADS=2 "$PYTHON" bench/torch_reference.py --layers 4 --d 128 --heads 4 --batch 64 --seq 128 \
      --steps 3 --warmup 1 --threads 2 --input token --generate --json | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
  printf '(4,128,4) %s %s\n' "$s" "$t"
done | tee >(cat >&2) | awk -f bench/medians.awk
