#!/usr/bin/env bash
# The study's own cost (issue 21): one 20,000-step run of the second round's sweep at each given width (unit 0:
# 1gram, seed 1, with 2,000 generation samples every 1,000 steps, one thread), trained by two cfg-run binaries side by
# side at once (a core each), timed by /usr/bin/time; then checks that both wrote the same rows (wall_s aside).
# Pause a running study first (SIGINT; resume is exact). Usage: bench/study_cost.sh OLD_CFG_RUN NEW_CFG_RUN [WIDTH:HEADS ...]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD_CFG_RUN NEW_CFG_RUN [WIDTH:HEADS ...] (default 8:1 16:1)" >&2; exit 2; }
for binary in "$1" "$2"; do
  [ -f "$binary" ] && [ -x "$binary" ] || { echo "study_cost: $binary is not an executable file (give two cfg-run binaries)" >&2; exit 2; }
done
old=$(realpath "$1"); new=$(realpath "$2"); shift 2
widths=("${@:-8:1 16:1}")
read -r -a widths <<< "${widths[*]}"
cd "$(dirname "$0")/.."
folder=$(mktemp -d /tmp/cfg-run-study-cost.XXXXXX)
trap 'rm -rf "$folder"' EXIT
for width in "${widths[@]}"; do
  IFS=: read -r d h <<< "$width"
  seeds=1,2,3; [ "$d" -le 16 ] && seeds=1,2,3,4,5
  for side in old new; do
    binary=$old; [ $side = new ] && binary=$new
    /usr/bin/time -f "%e" -o "$folder/$d-$side.time" "$binary" grammars/cfg3f-l3.cfg \
      --variants 1gram,3gram-in,3gram-hin,3gram-out,3gram-gpt,2gram-out --schedule wsd --decay 0.2 --warmup 1000 \
      --eval-every 1000 --gen-samples 2000 --sizes "L8-d$d-h$h" --seeds "$seeds" --steps 20000 --threads 1 --unit 0 \
      --out "$folder/$d-$side.csv" > "$folder/$d-$side.rows" 2> "$folder/$d-$side.log" &
  done
  for side in old new; do
    wait -n || { echo "study_cost: a run failed (width $d); its log:" >&2; tail -n 3 "$folder"/$d-*.log >&2; exit 1; }
  done
  python3 - "$folder" "$d" <<'PY'
import csv, sys
folder, d = sys.argv[1:]
rows = lambda side: [{k: v for k, v in r.items() if k != "wall_s"} for r in csv.DictReader(open(f"{folder}/{d}-{side}.rows"))]
time = lambda side: float(open(f"{folder}/{d}-{side}.time").read().split()[-1])
same = rows("old") == rows("new")
print(f"width {d}: old {time('old'):.1f} s, new {time('new'):.1f} s, {time('old') / time('new'):.2f}x; rows {'identical' if same else 'DIFFERENT'}")
sys.exit(0 if same else 1)
PY
done
