#!/usr/bin/env bash
# The study's findings as regression tests (issue 18; `.ci/run` runs this after the tests): every reading of the
# second round's tables in results/README.md, both metrics, checked with `cfg-run assert` on the committed CSVs.
# A change to a committed CSV, or to how cfg-run reads one, that alters a reading fails here (exit status 1).
# ("A > B ... with 95% confidence": the 95% t-interval of A - B paired by seed lies wholly above 0; "A ~ B": it
# contains 0. Accuracy higher is better, excess lower.) The other half of the findings test, a rerun of a committed
# study run's first steps, is Tests/CLITests/FindingsTests.swift.
#
# The blocks below are the output of tools/verdicts.py --claims on the files they name, not edited by hand (the same
# test file checks each block against its command's output): regenerate a block when its sweep's CSV is committed
# complete, and say so in the commit.
# What they are: the first budget (20,000 steps) and the second (40,000 steps) of every width; then the same
# sweeps' final checkpoints rescored on 10,000 validation sentences (Addition 1, results/rescored-*.csv: the excess
# readings on the larger set; accuracy is the runs' own).
# These are readings at budgets shorter than the verdicts' (each width's longest), labelled so in results/README.md.
#
# Usage: results/findings.sh   (CFG_RUN=path picks the binary; default .build/release/cfg-run)
set -euo pipefail
cd "$(dirname "$0")/.."
CFG_RUN=${CFG_RUN:-.build/release/cfg-run}
[ -x "$CFG_RUN" ] || { echo "findings.sh: no cfg-run binary at $CFG_RUN (build it: swift build -c release)" >&2; exit 2; }
failed=0
check() {
    local file=$1 output
    shift
    if output=$("$CFG_RUN" assert "$file" "$@"); then
        echo "findings: $file: all $# claims hold"
    else
        echo "findings: $file: a claim does not hold:"
        echo "$output" | grep -v '^holds' | grep -v '^  .* ok (' || true
        failed=1
    fi
}

# tools/verdicts.py --claims results/plateau-d8-20k.csv results/plateau-d16-20k.csv results/plateau-d32-20k.csv results/plateau-d64-20k.csv
check results/plateau-d8-20k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d8-h1' \
  '3gram-out < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d8-h1' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d8-h1' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d8-h1' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d8-h1' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d8-h1' \
  '3gram-out < 2gram-out on excess_per_char at size L8-d8-h1 with 95% confidence'
check results/plateau-d16-20k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-out > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-out < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d16-h1' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d16-h1' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d16-h1' \
  '3gram-hin > 3gram-in on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d16-h1'
check results/plateau-d32-20k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d32-h2' \
  '3gram-out < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d32-h2' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-gpt ~ 1gram on gen_accuracy at size L8-d32-h2' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d32-h2'
check results/plateau-d64-20k.csv \
  '3gram-in < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-in > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '3gram-gpt ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-gpt < 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d64-h4' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d64-h4'

# tools/verdicts.py --claims results/plateau-d8-40k.csv
check results/plateau-d8-40k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d8-h1' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d8-h1' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d8-h1' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d8-h1' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d8-h1' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d8-h1' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d8-h1' \
  '3gram-out < 2gram-out on excess_per_char at size L8-d8-h1 with 95% confidence'

# tools/verdicts.py --claims results/plateau-d16-40k.csv
check results/plateau-d16-40k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-out > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-out < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '2gram-out > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '2gram-out < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d16-h1' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d16-h1'

# tools/verdicts.py --claims results/plateau-d32-40k.csv
check results/plateau-d32-40k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-in ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-hin ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-out > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d32-h2' \
  '2gram-out > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-gpt < 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-gpt ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d32-h2'

# tools/verdicts.py --claims results/plateau-d64-40k.csv
check results/plateau-d64-40k.csv \
  '3gram-in < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-in > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '3gram-gpt > 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-gpt < 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d64-h4' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d64-h4'

# tools/verdicts.py --claims results/rescored-plateau-d16-20k.csv
check results/rescored-plateau-d16-20k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-out > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-out < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d16-h1' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d16-h1' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d16-h1' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d16-h1'

# tools/verdicts.py --claims results/rescored-plateau-d32-20k.csv
check results/rescored-plateau-d32-20k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d32-h2' \
  '3gram-out < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d32-h2' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-gpt ~ 1gram on gen_accuracy at size L8-d32-h2' \
  '3gram-gpt ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d32-h2'

# tools/verdicts.py --claims results/rescored-plateau-d64-20k.csv
check results/rescored-plateau-d64-20k.csv \
  '3gram-in < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-in > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '3gram-gpt ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-gpt < 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d64-h4' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d64-h4'

# tools/verdicts.py --claims results/rescored-plateau-d8-40k.csv
check results/rescored-plateau-d8-40k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d8-h1' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d8-h1' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d8-h1' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d8-h1' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d8-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d8-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d8-h1' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d8-h1' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d8-h1' \
  '3gram-out < 2gram-out on excess_per_char at size L8-d8-h1 with 95% confidence'

# tools/verdicts.py --claims results/rescored-plateau-d16-40k.csv
check results/rescored-plateau-d16-40k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-out > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-out < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '2gram-out > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '2gram-out < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-gpt > 1gram on gen_accuracy at size L8-d16-h1 with 95% confidence' \
  '3gram-gpt < 1gram on excess_per_char at size L8-d16-h1 with 95% confidence' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d16-h1' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d16-h1' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d16-h1'

# tools/verdicts.py --claims results/rescored-plateau-d32-40k.csv
check results/rescored-plateau-d32-40k.csv \
  '3gram-in > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-in < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d32-h2 with 95% confidence' \
  '3gram-out > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d32-h2' \
  '2gram-out > 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-gpt < 1gram on gen_accuracy at size L8-d32-h2 with 95% confidence' \
  '3gram-gpt ~ 1gram on excess_per_char at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d32-h2' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d32-h2' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d32-h2'

# tools/verdicts.py --claims results/rescored-plateau-d64-40k.csv
check results/rescored-plateau-d64-40k.csv \
  '3gram-in < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-in > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin < 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-hin > 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '2gram-out ~ 1gram on excess_per_char at size L8-d64-h4' \
  '2gram-out ~ 1gram on gen_accuracy at size L8-d64-h4' \
  '3gram-gpt > 1gram on excess_per_char at size L8-d64-h4 with 95% confidence' \
  '3gram-gpt < 1gram on gen_accuracy at size L8-d64-h4 with 95% confidence' \
  '3gram-hin ~ 3gram-in on excess_per_char at size L8-d64-h4' \
  '3gram-hin ~ 3gram-in on gen_accuracy at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on excess_per_char at size L8-d64-h4' \
  '3gram-out ~ 2gram-out on gen_accuracy at size L8-d64-h4'

exit $failed
