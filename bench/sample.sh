#!/usr/bin/env bash
# KV-cached sampling speed, cfg-run against PyTorch on the CPU, side by side in one run: alternately
# `cfg-run bench --generate` and `bench/torch_reference.py --generate` (the same model, (4,128,4) unless told, token input, learned
# positions, V = 5; 64 sequences of SEQ tokens from token 0 at temperature 1; 2 threads), REPEATS times each;
# prints every measurement, then the medians and the ratio.
# Usage: bench/sample.sh [REPEATS] [LAYERS WIDTH HEADS SEQ]   (default shape 4 128 4, 128 tokens; the deep-narrow
#        regime of issue 14: 8 64 4 64)      Env: PYTHON (a Python with torch; default /work/torchenv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
L=${2:-4} D=${3:-128} H=${4:-4} SEQ=${5:-128}
PYTHON=${PYTHON:-/work/torchenv/bin/python}
swift build -c release --product cfg-run >&2
printf 'shape swift_tokens_per_s torch_tokens_per_s\n'
for r in $(seq "$REPEATS"); do
  s=$(.build/release/cfg-run bench --layers "$L" --d "$D" --heads "$H" --generate --batch 64 --seq "$SEQ" --steps 3 \
      --input 1gram --threads 2 --json | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
  t=$(OMP_NUM_THREADS=2 "$PYTHON" bench/torch_reference.py --layers "$L" --d "$D" --heads "$H" --batch 64 --seq "$SEQ" \
      --steps 3 --warmup 1 --threads 2 --input token --generate --json | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
  printf '(%s,%s,%s) %s %s\n' "$L" "$D" "$H" "$s" "$t"
done | tee >(cat >&2) | awk -f bench/medians.awk
