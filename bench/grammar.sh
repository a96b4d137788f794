#!/usr/bin/env bash
# Grammar-engine benchmark: sampling and exact-parsing throughput on one core for the bundled cfg3 grammars.
# Usage: bench/grammar.sh [extra 'cfg-run bench' options, e.g. --repeats 9]
# Prints one JSON object per grammar (medians, min and max over the repeats). The table in bench/README.md
# comes from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cfg-run >&2
for g in cfg3b cfg3i cfg3h cfg3g cfg3f cfg3f-l4 dyck2 arith; do
  .build/release/cfg-run bench --grammar "grammars/$g.cfg" --json "$@"
done
