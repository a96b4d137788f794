#!/usr/bin/env bash
# The commands behind results/*.csv (see results/README.md), in the order they were run.
# CFG_RUN: the cfg-run binary to use (default .build/release/cfg-run; build it with `swift build -c release`).
# Usage: results/experiments.sh [SECTION...]   (default: every section; e.g. `results/experiments.sh 6` resumes the
#        second round: finished sweeps are skipped, an interrupted one continues from its checkpoints; on a fresh
#        clone a sweep whose committed CSV holds its finished result trains nothing)
set -euo pipefail
# The whole script is one function, read before any of it runs: editing this file while a study runs (for hours)
# cannot change what the running copy does.
main() {
cd "$(dirname "$0")/.."
CFG_RUN=${CFG_RUN:-.build/release/cfg-run}
SECTIONS=" ${*:-1 2 3 4 5 6} "
section() { [[ $SECTIONS == *" $1 "* ]]; }

if section 1; then
# 1. Headline sweep: the five designs at N=3, four sizes, three seeds, cfg3f's lowest four levels (~44 characters).
$CFG_RUN grammars/cfg3f-l4.cfg --sizes tiny,xs,s,m --variants 1gram,3gram-gpt,3gram-in,3gram-hin,3gram-out \
  --seeds 1,2,3 --steps 1000 --out results/dichotomy.csv
fi

if section 2; then
# 2. Saturation study of the output side: the smallest model trained 6x longer on two grammar depths (cfg3f's
#    lowest three and four levels), learning curves every 250 steps.
$CFG_RUN grammars/cfg3f-l3.cfg --sizes tiny --variants 1gram,3gram-out --seeds 1,2,3 --steps 6000 \
  --eval-every 250 --gen-samples 100 --out results/saturation-tiny-l3.csv
$CFG_RUN grammars/cfg3f-l4.cfg --sizes tiny --variants 1gram,3gram-out --seeds 1,2,3 --steps 6000 \
  --eval-every 250 --gen-samples 100 --out results/saturation-tiny-l4.csv
fi

if section 3; then
# 3. Over-Encoding at CFG scale: hashed 3-gram input tables of m rows (primes, coprime with the 5 base tokens),
#    m from 7 to 997, two slices, one model size; plus 1gram and the exact 3gram-hin for reference.
$CFG_RUN grammars/cfg3f-l4.cfg --sizes xs --seeds 1,2,3 --steps 1000 --gen-samples 0 \
  --variants 1gram,3gram-hin@m=7,k=2,3gram-hin@m=17,k=2,3gram-hin@m=37,k=2,3gram-hin@m=97,k=2,3gram-hin@m=251,k=2,3gram-hin@m=997,k=2,3gram-hin \
  --out results/over-encoding.csv
fi

if section 4; then
# 4. Saturation of a deep-narrow model (8 layers x 32, like the paper's 12 x 128 small model, scaled down).
$CFG_RUN grammars/cfg3f-l3.cfg --sizes deep --variants 1gram,3gram-out --seeds 1,2 --steps 4000 \
  --eval-every 250 --gen-samples 100 --out results/saturation-deep-l3.csv
fi

if section 5; then
# 5. The smallest model trained 20,000 steps (evaluated every 1,000) on both depths, to see where it saturates.
$CFG_RUN grammars/cfg3f-l3.cfg --sizes tiny --variants 1gram,3gram-out --seeds 1,2,3 --steps 20000 \
  --eval-every 1000 --gen-samples 100 --out results/saturation-tiny-l3-20k.csv
$CFG_RUN grammars/cfg3f-l4.cfg --sizes tiny --variants 1gram,3gram-out --seeds 1,2,3 --steps 20000 \
  --eval-every 1000 --gen-samples 100 --out results/saturation-tiny-l4-20k.csv
fi

if section 6; then
# 6. Second round, the paper's regime (protocol in results/README.md, committed before these runs): depth 8, widths
#    8-64, six designs, warmup-stable-decay, 2,000 generation samples per evaluation, each width to its plateau.
#    Two runs at once with a thread each (results do not depend on it). A sweep interrupted at a session's end is
#    resumed by rerunning its command.
COMMON=(grammars/cfg3f-l3.cfg --variants 1gram,3gram-in,3gram-hin,3gram-out,3gram-gpt,2gram-out --schedule wsd
        --decay 0.2 --warmup 1000 --eval-every 1000 --gen-samples 2000)
STUDY=("${COMMON[@]}" --jobs 2 --threads 2)
# Exit status 1 means a run diverged (its rows say so): a result, not a failure of the script.
study() { "$CFG_RUN" "$@" || [ $? -eq 1 ]; }
CHECK=(grammars/cfg3f-l3.cfg --variants 1gram,3gram-out --seeds 1 --steps 20000 --schedule wsd --decay 0.2
       --warmup 1000 --eval-every 1000 --gen-samples 2000 --jobs 2 --threads 2)
# 6a. The learning-rate check: widths 16 and 64, seed 1, 1gram and 3gram-out, peak rates 0.001 and 0.004; the rate
#     0.002 is seed 1 of the 20,000-step sweeps below (the same runs), so those two units of each are trained first,
#     side by side (--unit: 1gram seed 1 is unit 0; 3gram-out seed 1 is unit 15 of the five-seed sweep, 9 of the
#     three-seed one).
for size in L8-d16-h1 L8-d64-h4; do
  for lr in 0.001 0.004; do
    study "${CHECK[@]}" --sizes $size --lr $lr --out results/lr-check-${size#L8-}-lr$lr.csv
  done
done
for width in 16:1:1,2,3,4,5:15 64:4:1,2,3:9; do
  IFS=: read -r d h seeds out <<< "$width"
  pids=()
  for unit in 0 $out; do
    study "${COMMON[@]}" --threads 1 --sizes L8-d$d-h$h --seeds "$seeds" --steps 20000 \
      --out results/plateau-d$d-20k.csv --unit $unit > /dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
done
# 6b. Each width: 20,000 steps (the first budget); section 6d extends them.
WIDTHS="8:1:1,2,3,4,5 16:1:1,2,3,4,5 32:2:1,2,3 64:4:1,2,3"
for width in $WIDTHS; do
  IFS=: read -r d h seeds <<< "$width"
  study "${STUDY[@]}" --sizes L8-d$d-h$h --seeds "$seeds" --steps 20000 --out results/plateau-d$d-20k.csv
done
# The first budget's figures, every width at 20,000 steps (learning curves; a panel per width, a line per design).
FIRST=(results/plateau-d8-20k.csv results/plateau-d16-20k.csv results/plateau-d32-20k.csv results/plateau-d64-20k.csv)
TITLE="cfg3f-l3, depth 8, first budget (20,000 steps, warmup-stable-decay)"
$CFG_RUN plot "${FIRST[@]}" --y gen_accuracy --columns 2 --title "$TITLE: generation accuracy (2,000 samples)" \
  --out results/plateau-20k-accuracy.svg
$CFG_RUN plot "${FIRST[@]}" --y excess_per_char --columns 2 --title "$TITLE: excess per character (nats)" \
  --out results/plateau-20k-excess.svg
# The same final evaluations against width: each design's difference to 1gram, paired by seed, with its 95% interval.
$CFG_RUN plot "${FIRST[@]}" --x size --baseline 1gram --y gen_accuracy \
  --title "$TITLE: generation accuracy, difference to 1gram" --out results/plateau-20k-by-width-accuracy.svg
$CFG_RUN plot "${FIRST[@]}" --x size --baseline 1gram --y excess_per_char \
  --title "$TITLE: excess per character, difference to 1gram" --out results/plateau-20k-by-width-excess.svg
# 6c. The regime calibration at the first budget: k-gram models fitted on the characters of 20,000 steps (the runs'
#     chars column at step 20,000: 16,549,104-16,558,213 for seeds 1-5).
#     Computed once (it is deterministic): delete the file to compute it again.
[ -f results/calibration-kgram-20k.csv ] ||
  $CFG_RUN kgram grammars/cfg3f-l3.cfg --chars 16558213 --orders 3-10 --seeds 1,2,3 --out results/calibration-kgram-20k.csv
# 6c'. The regime calibration at the second budget: the characters of 40,000 steps (the runs' chars at step 40,000:
#     33,103,948-33,117,729 for seeds 1-5, the same at every width). Computed once, like 6c.
[ -f results/calibration-kgram-40k.csv ] ||
  $CFG_RUN kgram grammars/cfg3f-l3.cfg --chars 33117729 --orders 3-10 --seeds 1,2,3 --out results/calibration-kgram-40k.csv
# 6c''. The regime calibration at the third budget, for the widths that reach it: the characters of 80,000 steps,
#     the most any of seeds 1-5 has at step 80,000 (as at the first two budgets: seed 1's there), read from width 8's
#     80,000-step baseline runs once all five have finished (every width and design sees the same characters). Run
#     here (so that a restart catches up), after width 8's 40,000 -> 80,000 test (section 6d) and before the verdicts.
#     Computed once, like 6c.
calibrate_third_budget() {
  local chars
  [ -f results/calibration-kgram-80k.csv ] || [ ! -f results/plateau-d8-80k.csv ] && return 0
  chars=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["step"] == 80000 && $col["variant"] == "1gram" { seen[$col["seed"]] = 1; if ($col["chars"] + 0 > most) most = $col["chars"] + 0 }
    END { if (length(seen) == 5) print most }' results/plateau-d8-80k.csv)
  [ -z "$chars" ] ||
    $CFG_RUN kgram grammars/cfg3f-l3.cfg --chars "$chars" --orders 3-10 --seeds 1,2,3 --out results/calibration-kgram-80k.csv
}
calibrate_third_budget
# 6f (run here, before 6d, so that each restart catches up). Addition 1 (results/README.md, 2026-12-07): the final
#     checkpoints of every complete sweep scored on 10,000 validation sentences of data seed 2, beside the sweeps'
#     500. Once per sweep (delete the file to compute it again); it needs the sweep's final checkpoints, which only
#     the machine that trained it has (they are not committed), and a sweep with a run unscored writes nothing.
rescore() {
  local out=results/rescored-${1#results/}
  [ -f "$out" ] || [ ! -d "$1.runs" ] && return 0
  if $CFG_RUN rescore "$1" --val-samples 10000 --data-seed 2 --threads 1 --out "$out.partial" 2> /dev/null; then
    mv "$out.partial" "$out"
    echo "rescored: $out"
  else
    rm -f "$out.partial"
  fi
}
for sweep in results/plateau-d*-*k.csv; do rescore "$sweep"; done
# 6d. Each width's budget, by the plateau test on its 1gram baseline (tools/plateau.py, the protocol's rule), as
#     amended on 2026-12-07 (Amendment 1 in results/README.md). At a budget B, the baseline and 3gram-out (every
#     seed) are trained first at 2B, from B's stable-phase checkpoints (--extend-from: where this machine, or the
#     repository for widths 8-32, has B's folder; else from the start, the same rows). If doubling moved the
#     baseline less than the rule allows, B is the width's verdict budget and the other designs are not trained at
#     2B; else every design is trained at 2B, and 2B -> 4B is tested the same way, up to 80,000 steps (a width still
#     learning there is reported as not at its plateau, its verdicts at 80,000). Widths go through each doubling
#     together, so that every width's 40,000-step test comes before any 80,000-step run.
# The runs of one design at 2B: units v*n .. v*n+n-1 of the 2B sweep (n seeds; units in design, seed order).
design_units() { seq $(($1 * $2)) $(($1 * $2 + $2 - 1)); }
declare -A VERDICT_BUDGET
PENDING="$WIDTHS"
for budget in 20 40; do
  next=$((2 * budget))
  still=""
  for width in $PENDING; do
    IFS=: read -r d h seeds <<< "$width"
    n=$(tr ',' '\n' <<< "$seeds" | wc -l)
    short=results/plateau-d$d-${budget}k.csv long=results/plateau-d$d-${next}k.csv
    earlier=()
    [ -d "$short.runs" ] && earlier=(--extend-from "$short")
    # 1gram (design 0) and 3gram-out (design 3) at 2B, two runs at once with a thread each.
    pids=()
    for unit in $(design_units 0 "$n") $(design_units 3 "$n"); do
      study "${COMMON[@]}" --threads 1 --sizes L8-d$d-h$h --seeds "$seeds" --steps ${next}000 --out "$long" \
        "${earlier[@]}" --unit "$unit" > /dev/null &
      pids+=($!)
      if [ ${#pids[@]} -eq 2 ]; then wait "${pids[0]}"; wait "${pids[1]}"; pids=(); fi
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    # Exit status 1: the other designs have no runs at 2B (yet); the file holds every finished run.
    $CFG_RUN merge "$long" || [ $? -eq 1 ]
    [ "$d" != 8 ] || [ $next -ne 80 ] || calibrate_third_budget
    verdict=$(tools/plateau.py "$short" "$long")
    echo "$verdict"
    if grep -q "plateau at" <<< "$verdict"; then
      VERDICT_BUDGET[$d]=$budget
      continue
    fi
    study "${STUDY[@]}" --sizes L8-d$d-h$h --seeds "$seeds" --steps ${next}000 --out "$long" "${earlier[@]}"
    if [ $next -eq 80 ]; then VERDICT_BUDGET[$d]=$next; else still+=" $width"; fi
  done
  PENDING=$still
done
# 6e. The verdicts (tools/verdicts.py: every comparison with both metrics' paired intervals, the claims and the
#     crossover), each width at its verdict budget; 3gram-out's difference to the baseline at the doubled budget
#     beside it (its stability); and the figures.
FINAL=() DOUBLED=()
for width in $WIDTHS; do
  IFS=: read -r d h seeds <<< "$width"
  FINAL+=(results/plateau-d$d-${VERDICT_BUDGET[$d]}k.csv)
  if [ "${VERDICT_BUDGET[$d]}" -lt 80 ]; then DOUBLED+=(results/plateau-d$d-$((2 * VERDICT_BUDGET[$d]))k.csv); fi
done
echo "verdict budgets: ${FINAL[*]}"
calibrate_third_budget
tools/verdicts.py "${FINAL[@]}"
if [ ${#DOUBLED[@]} -gt 0 ]; then tools/verdicts.py "${DOUBLED[@]}"; fi
# The same on the larger validation set (Addition 1), and the validation-set noise measured on every rescored sweep.
RESCORED=() PAIRS=()
for sweep in "${FINAL[@]}"; do
  rescore "$sweep"
  if [ -f "results/rescored-${sweep#results/}" ]; then RESCORED+=("results/rescored-${sweep#results/}"); fi
done
if [ ${#RESCORED[@]} -gt 0 ]; then tools/verdicts.py "${RESCORED[@]}"; fi
for rescored in results/rescored-plateau-d*-*k.csv; do PAIRS+=(results/${rescored#results/rescored-} "$rescored"); done
tools/valnoise.py "${PAIRS[@]}"
TITLE="cfg3f-l3, depth 8, each width at its verdict budget"
$CFG_RUN plot "${FINAL[@]}" --y gen_accuracy --columns 2 --title "$TITLE: generation accuracy (2,000 samples)" \
  --out results/plateau-final-accuracy.svg
$CFG_RUN plot "${FINAL[@]}" --y excess_per_char --columns 2 --title "$TITLE: excess per character (nats)" \
  --out results/plateau-final-excess.svg
$CFG_RUN plot "${FINAL[@]}" --x size --baseline 1gram --y gen_accuracy \
  --title "$TITLE: generation accuracy, difference to 1gram" --out results/plateau-final-by-width-accuracy.svg
$CFG_RUN plot "${FINAL[@]}" --x size --baseline 1gram --y excess_per_char \
  --title "$TITLE: excess per character, difference to 1gram" --out results/plateau-final-by-width-excess.svg
fi
}
main "$@"
exit
