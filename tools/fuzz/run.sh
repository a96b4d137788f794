#!/usr/bin/env bash
# Fuzzes the .cfg reader and the chart parser with libFuzzer (see README.md beside this script).
# Usage: tools/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]   (default 600 seconds)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
swift build -c release --product cfg-fuzz --scratch-path .build/fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING
mkdir -p tools/fuzz/corpus-work tools/fuzz/artifacts
# Seeds: the hand-written ones plus the small bundled grammars.
cp -n tools/fuzz/seeds/* grammars/dyck2.cfg grammars/arith.cfg grammars/cfg3f-l3.cfg tools/fuzz/corpus-work/ 2>/dev/null || true
exec .build/fuzz/release/cfg-fuzz tools/fuzz/corpus-work \
  -dict=tools/fuzz/cfg.dict -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
  -max_total_time="$seconds" -artifact_prefix=tools/fuzz/artifacts/ -print_final_stats=1 "$@"
