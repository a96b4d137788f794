#!/usr/bin/env bash
# Where a training step's work goes, per kernel: instructions counted by callgrind (valgrind), which are the same
# for the same binary and inputs whatever else the machine is doing, so that a profile can be taken while a study
# runs. One training step of `cfg-run bench` (batch 16 x 64 characters, one thread, 3gram-hin input) for each shape
# given as LAYERS:WIDTH:HEADS (default: the second round's four widths at depth 8); each step's count is the
# difference between runs of 2 and 1 timed steps, so start-up and warm-up cancel out.
# Usage: bench/profile.sh [LAYERS:WIDTH:HEADS ...]   (CFG_RUN: the binary, default .build/release/cfg-run)
set -euo pipefail
cd "$(dirname "$0")/.."
CFG_RUN=${CFG_RUN:-.build/release/cfg-run}
command -v valgrind >/dev/null || { echo "profile: valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 2; }
shapes=("${@:-8:8:1 8:16:1 8:32:2 8:64:4}")
read -r -a shapes <<< "${shapes[*]}"
folder=$(mktemp -d /tmp/cfg-run-profile.XXXXXX)
trap 'rm -rf "$folder"' EXIT
for shape in "${shapes[@]}"; do
  IFS=: read -r layers width heads <<< "$shape"
  for steps in 1 2; do
    valgrind --tool=callgrind --callgrind-out-file="$folder/$shape-$steps.out" "$CFG_RUN" bench --layers "$layers" \
      --d "$width" --heads "$heads" --batch 16 --seq 64 --steps "$steps" --threads 1 --input 3gram-hin \
      >/dev/null 2>"$folder/$shape-$steps.log"
    callgrind_annotate --auto=no --threshold=100 "$folder/$shape-$steps.out" > "$folder/$shape-$steps.txt" 2>/dev/null
  done
done
python3 - "$folder" "${shapes[@]}" <<'PY'
import re, sys
folder, shapes = sys.argv[1], sys.argv[2:]
# Kernels by the mangled name of the function the work was done in (inlined code counts where it was inlined).
CATEGORIES = [("matrix multiply", ["14MatrixMultiplyO"]), ("attention", ["9AttentionO"]), ("exp (softmax)", ["expInPlace"]),
              ("layer norm", ["9LayerNormO"]), ("GELU", ["4GELUO"]), ("bias and its gradient", ["4BiasO", "9ColumnSumO"]),
              ("cross-entropy", ["12CrossEntropyO"]), ("embedding", ["9EmbeddingO", "6NGramID", "InputLayers"]),
              ("AdamW and the gradient norm", ["5AdamWO"]), ("memset / memcpy", ["memset", "memmove", "memcpy"])]
def costs(path):
    out = {}
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+\([ \d.]+%\)\s+(\S.*)$", line)
        if not m or "PROGRAM TOTALS" in line: continue
        name = m.group(2)
        category = next((c for c, keys in CATEGORIES if any(k in name for k in keys)), "other (model glue, runtime)")
        out[category] = out.get(category, 0) + int(m.group(1).replace(",", ""))
    return out
names = [c for c, _ in CATEGORIES] + ["other (model glue, runtime)"]
print("| kernel | " + " | ".join(f"{s} (M instr/step, share)" for s in shapes) + " |")
print("|---|" + "---|" * len(shapes))
steps = {s: {c: costs(f"{folder}/{s}-2.txt").get(c, 0) - costs(f"{folder}/{s}-1.txt").get(c, 0) for c in names} for s in shapes}
for c in names:
    print(f"| {c} | " + " | ".join(f"{steps[s][c] / 1e6:.2f} ({100 * steps[s][c] / max(1, sum(steps[s].values())):.0f}%)" for s in shapes) + " |")
print("| total per step | " + " | ".join(f"{sum(steps[s].values()) / 1e6:.1f}" for s in shapes) + " |")
print("| per token (16 x 64) | " + " | ".join(f"{sum(steps[s].values()) / 1024:,.0f}" for s in shapes) + " |")
PY
