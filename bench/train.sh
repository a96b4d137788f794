#!/usr/bin/env bash
# Training speed, cfg-run against PyTorch (eager, and torch.compile) on the CPU, side by side in one run: see
# bench/train.py for the method. Prints every measurement (stderr), then a Markdown table of medians.
# Usage: bench/train.sh [REPEATS] [SUITE] [MORE]   SUITE: deep (default: batch 16 x seq 64, depth 8-12, widths
#        32-128, designs 1gram / 3gram-hin / 3gram-out, 1 and 2 threads), wide (batch 16 x seq 256, widths 64-384),
#        study (the second round's widths 8-64 at depth 8, 3gram-hin, one thread) or study-2t (two threads)
#        MORE: further bench/train.py options, e.g. --no-compile, --shapes 8x32x2 or --baseline OLD_CFG_RUN
# Env: PYTHON (a Python with torch; default /work/torchenv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
SUITE=${2:-deep}
swift build -c release --product cfg-run >&2
"${PYTHON:-/work/torchenv/bin/python}" bench/train.py --suite "$SUITE" --repeats "$REPEATS" "${@:3}"
