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
done | tee >(cat >&2) | awk '{ s[$1] = s[$1] " " $2; t[$1] = t[$1] " " $3; order[NR] = $1 }
  function median(list,   a, n, i, j, x) { n = split(list, a, " ");
    for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { print "\nshape       swift tok/s   torch tok/s   swift/torch (medians)";
        for (i = 1; i <= NR; i++) { k = order[i]; if (k in done) continue; done[k] = 1;
          printf "%-10s %12.0f %13.0f %8.2fx\n", k, median(s[k]), median(t[k]), median(s[k]) / median(t[k]) } }'
