#!/usr/bin/env bash
# Two cfg-run binaries on one training shape, in alternating rounds: `cfg-run bench --layers L --d D --heads H
# --batch 16 --seq 64 --steps 20 --threads 1 --input 3gram-hin`, OLD then NEW in each round, and the ratio NEW/OLD of
# each round's two medians. Prints each binary's median tokens/s and the median and quartiles of the per-round
# ratios: on a host whose speed drifts by tens of percent from minute to minute, a ratio taken within a round (two
# runs seconds apart) is steadier than a ratio of two medians.
# Usage: bench/ab.sh OLD_CFG_RUN NEW_CFG_RUN [ROUNDS] [LAYERS:WIDTH:HEADS ...]   (default 11 rounds, the four
#        study widths at depth 8)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD_CFG_RUN NEW_CFG_RUN [ROUNDS] [LAYERS:WIDTH:HEADS ...]" >&2; exit 2; }
old=$1; new=$2; rounds=${3:-11}; shift $(( $# >= 3 ? 3 : 2 ))
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 2 ]] || { echo "$0: ROUNDS must be a whole number of at least 2" >&2; exit 2; }
for binary in "$old" "$new"; do [ -x "$binary" ] || { echo "$0: $binary is not an executable" >&2; exit 2; }; done
shapes=("${@:-8:8:1 8:16:1 8:32:2 8:64:4}")
read -r -a shapes <<< "${shapes[*]}"
for shape in "${shapes[@]}"; do
  IFS=: read -r layers width heads <<< "$shape"
  for _ in $(seq "$rounds"); do
    for binary in "$old" "$new"; do
      "$binary" bench --layers "$layers" --d "$width" --heads "$heads" --batch 16 --seq 64 --steps 20 --threads 1 \
        --input 3gram-hin --json | tail -n 1
    done
  done | python3 -c '
import json, statistics, sys
shape = sys.argv[1]
rates = [json.loads(line)["tokens_per_s"] for line in sys.stdin]
old, new = rates[0::2], rates[1::2]
ratios = [n / o for n, o in zip(new, old)]
q1, _, q3 = statistics.quantiles(ratios, n=4)
print(f"({shape}) old {statistics.median(old):,.0f} tok/s, new {statistics.median(new):,.0f} tok/s; new/old per round: "
      f"median {statistics.median(ratios):.3f}, quartiles {q1:.3f}-{q3:.3f}, {len(ratios)} rounds")
' "$layers,$width,$heads"
done
