#!/usr/bin/env bash
# Matrix-multiply benchmark: MatrixMultiply (Kernels module, Swift) side by side with numpy/OpenBLAS, same shapes,
# same method (median GFLOP/s over the repeats), at 1 and 2 threads.
# Usage: bench/gemm.sh [REPEATS [THREADS...]]          (defaults: 5 repeats per run; threads 1 2)
# Env: GEMM_ROUNDS=n (default 3) interleaved rounds; GEMM_SCRATCH=dir SwiftPM scratch path (default .build);
#      GEMM_SHAPES="m,n,k,tA,tB ..." (default: the training shapes, bench/gemm.py --list).
# The Swift side is a small driver compiled here against the Kernels module (`cfg-run bench --gemm` runs the same
# measurement on the default shapes; the driver takes any shapes).
# Prints the raw lines, then a table; bench/README.md's "Matrix multiply" table comes from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-5}
shift || true
ROUNDS=${GEMM_ROUNDS:-3}
THREADS=("$@")
[ ${#THREADS[@]} -eq 0 ] && THREADS=(1 2)
SCRATCH=${GEMM_SCRATCH:-.build}
read -r -a SHAPES <<< "${GEMM_SHAPES:-}"

swift build -c release --target Kernels --scratch-path "$SCRATCH" >&2
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/main.swift" <<'SWIFT'
import Kernels
let arguments = CommandLine.arguments
let threads = Int(arguments[1])!, repeats = Int(arguments[2])!
var shapes = MatrixMultiplyBenchmark.trainingShapes
if arguments.count > 3 {
    shapes = arguments[3...].map { text in
        let f = text.split(separator: ",").map { Int($0)! }
        return (f[0], f[1], f[2], f[3] != 0, f[4] != 0)
    }
}
func fmt(_ x: Double) -> String { String((x * 10).rounded() / 10) }
for r in MatrixMultiplyBenchmark.run(shapes: shapes, threads: threads, repeats: repeats) {
    print("swift \(r.m) \(r.n) \(r.k) \(r.transposeA ? 1 : 0) \(r.transposeB ? 1 : 0) \(r.threads) \(fmt(r.gflopsMedian)) \(fmt(r.gflopsMin)) \(fmt(r.gflopsMax))")
}
SWIFT
swiftc -O -I "$BIN/Modules" "$WORK/main.swift" "$BIN"/Kernels.build/*.o -o "$WORK/gemm-bench" >&2

echo "# $(date -u +%FT%TZ) $(uname -n) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cpus; $(uptime | sed 's/.*load/load/')"
echo "# busiest processes before the run: $(ps -eo pcpu,comm --sort=-pcpu | sed -n '2,4p' | awk '{printf "%s %s%%; ", $2, $1}')"
# Interleaved, to spread the drift of a shared machine evenly: for each thread count, ROUNDS rounds; in each round
# every shape runs on both sides, Swift first in odd rounds and numpy first in even ones. Each run reports the
# median of REPEATS measurements; the table shows the median over the rounds.
[ ${#SHAPES[@]} -eq 0 ] && read -r -a SHAPES <<< "$(python3 bench/gemm.py --list)"
numpy_side() {  # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set here for old-OpenBLAS safety) slow numpy: unset them.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$1" OMP_NUM_THREADS="$1" \
        python3 bench/gemm.py "$1" "$REPEATS" "$2"
}
for t in "${THREADS[@]}"; do
    for round in $(seq "$ROUNDS"); do
        for shape in "${SHAPES[@]}"; do
            if [ $((round % 2)) -eq 1 ]; then
                "$WORK/gemm-bench" "$t" "$REPEATS" "$shape"; numpy_side "$t" "$shape"
            else
                numpy_side "$t" "$shape"; "$WORK/gemm-bench" "$t" "$REPEATS" "$shape"
            fi
        done
    done
done | tee "$WORK/results"
echo "# $(uptime | sed 's/.*load/load/')"
python3 - "$WORK/results" <<'PY'
import sys
import statistics
runs = {}
for line in open(sys.argv[1]):
    side, m, n, k, ta, tb, t, med, lo, hi = line.split()
    runs.setdefault((int(t), m, n, k, ta, tb), {}).setdefault(side, []).append(float(med))
rows = {key: {side: round(statistics.median(v), 1) for side, v in sides.items()} for key, sides in runs.items()}
layout = {("0", "1"): "x·Wᵀ (N,T)", ("0", "0"): "dy·W (N,N)", ("1", "0"): "dyᵀ·x (T,N)", ("1", "1"): "(T,T)"}
print()
print("| M×N×K | op | threads | Swift GFLOP/s | numpy GFLOP/s | Swift/numpy |")
print("|---|---|---|---|---|---|")
for (t, m, n, k, ta, tb), v in sorted(rows.items(), key=lambda kv: (kv[0][0],)):
    s, p = v.get("swift"), v.get("numpy")
    ratio = f"{s / p:.2f}" if s and p else "-"
    print(f"| {m}×{n}×{k} | {layout[(ta, tb)]} | {t} | {s} | {p} | {ratio} |")
PY
