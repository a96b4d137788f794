#!/usr/bin/env bash
# Same bits: trains the same small sweeps with two cfg-run binaries and compares what they wrote, so that a change
# to the model, the kernels or the runner that is meant to keep the numbers can show it does. Compared: every CSV
# (the wall_s column aside) and the tensors of every checkpoint (parameters and AdamW moments, byte for byte; the
# header, which holds wall times, aside). Covers every vocabulary design, learned and rotary positions, hashed
# Over-Encoding, multi-token prediction, the warmup-stable-decay schedule with its stable-phase checkpoint, and a
# second grammar.
# Usage: tools/same_bits.sh OLD_CFG_RUN NEW_CFG_RUN [FOLDER]   (exit status 0 when everything is the same)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD_CFG_RUN NEW_CFG_RUN [FOLDER]" >&2; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2")
cd "$(dirname "$0")/.."
folder=${3:-$(mktemp -d /tmp/cfg-run-same-bits.XXXXXX)}
# A folder with an earlier comparison in it would have its finished sweeps reused, not trained: every file "the
# same" without either binary having run. Refuse it.
if [ -e "$folder/old" ] || [ -e "$folder/new" ]; then
  echo "$0: $folder already holds a comparison (old/, new/); give a new or empty folder" >&2; exit 2
fi
mkdir -p "$folder"
small=(--steps 30 --eval-every 10 --gen-samples 16 --val-samples 50 --threads 2)
sweeps=(
  "designs|grammars/cfg3f-l3.cfg --sizes tiny,L2-d32-h2 --variants 1gram,3gram-in,3gram-hin,3gram-hin@m=37,k=2,3gram-out,3gram-gpt,2gram-out,3gram-mtp ${small[*]}"
  "rotary|grammars/cfg3f-l3.cfg --sizes tiny --variants 1gram,3gram-in,3gram-hin@m=17,k=2 --positions rotary ${small[*]}"
  "wsd|grammars/cfg3f-l3.cfg --sizes tiny --variants 1gram,3gram-out --schedule wsd --decay 0.5 --warmup 5 --seeds 1,2 ${small[*]} --steps 40"
  "dyck2|grammars/dyck2.cfg --sizes tiny --variants 1gram,3gram-hin,3gram-out ${small[*]}"
)
for entry in "${sweeps[@]}"; do
  name=${entry%%|*}; read -r -a arguments <<< "${entry#*|}"
  for side in old new; do
    binary=$old; [ $side = new ] && binary=$new
    "$binary" "${arguments[@]}" --out "$folder/$side/$name.csv" 2>"$folder/$side-$name.log" || [ $? -eq 1 ]
  done
done
python3 - "$folder" <<'PY'
import csv, glob, os, struct, sys
folder = sys.argv[1]
def rows(path):
    table = list(csv.reader(open(path, newline="")))
    wall = table[0].index("wall_s")
    return [[f for i, f in enumerate(row) if i != wall] for row in table]
def tensors(path):
    data = open(path, "rb").read()
    header = struct.unpack_from("<I", data, 12)[0]
    return data[16 + header:-8]
problems, compared = [], 0
for old in sorted(glob.glob(f"{folder}/old/*.csv")):
    new = old.replace("/old/", "/new/")
    compared += 1
    if rows(old) != rows(new): problems.append(f"{os.path.basename(old)}: the rows differ")
for old in sorted(glob.glob(f"{folder}/old/*.csv.runs/*.ckpt")):
    new = old.replace("/old/", "/new/")
    compared += 1
    if not os.path.exists(new): problems.append(f"{new}: missing")
    elif tensors(old) != tensors(new): problems.append(f"{os.path.relpath(old, folder)}: the tensors differ")
print(f"same bits: {compared} files compared in {folder}" + ("" if not problems else f"; {len(problems)} differ:"))
for p in problems: print("  " + p)
sys.exit(1 if problems else 0)
PY
