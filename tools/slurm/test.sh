#!/usr/bin/env bash
# cfg-run's Slurm job arrays against a real Slurm (Debian's slurm-wlm and munge, installed when missing): a one-node
# cluster on localhost in a temporary folder (its own munged, slurmctld and slurmd, stopped by their PIDs at the
# end), then
#   1. a sweep submitted as an array and merged equals the same sweep run here (wall_s aside);
#   2. a task cancelled mid-run leaves its unit missing; resubmitting the same command submits only that unit,
#      which resumes from its checkpoint, and the merged CSV equals a local run;
#   3. the sweep of 1, submitted from a folder whose name holds a space, both quotes, '#' and '%' (the results, the
#      script, the logs and the grammar are there, and the tasks start there): each task's log is there, and the
#      merged CSV equals the local run.
# Fails loudly (never skips) when Slurm cannot be installed or started. Called by .ci/run.
# CFG_RUN: the cfg-run binary (default .build/release/cfg-run).
set -euo pipefail
cd "$(dirname "$0")/../.."
CFG_RUN=${CFG_RUN:-$PWD/.build/release/cfg-run}
fail() { echo "slurm test: FAILED: $*" >&2; exit 1; }
note() { echo "slurm test: $*" >&2; }
[ -x "$CFG_RUN" ] || fail "no cfg-run binary at $CFG_RUN (swift build -c release)"
CFG_RUN=$(realpath "$CFG_RUN")  # case 3 runs it from another folder

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "slurm-wlm and munge are not installed, and only root can install them"
  note "installing Debian's slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq slurm-wlm munge >/dev/null || fail "cannot install slurm-wlm and munge"
fi
[ "$(id -u)" = 0 ] || fail "slurmd must run as root here (it starts jobs as their user)"

T=$(mktemp -d /tmp/cfg-run-slurm.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ $status -ne 0 ]; then
    for log in "$T"/log/*; do [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }; done
  fi
  rm -rf "$T"
}
trap cleanup EXIT

# munge: a key and a socket of our own.
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/log"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$T/munge/munge.key"
munged --force --foreground --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
  --log-file="$T/log/munged.log" --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/seed" >"$T/log/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.sock" ] || fail "munged did not start"

PORT=$((40000 + RANDOM % 20000))
cat >"$T/slurm.conf" <<CONF
ClusterName=cfgrun
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
KillWait=5
NodeName=localhost CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.5; done
sinfo -h -o %t 2>/dev/null | grep -q idle || fail "the one-node cluster did not come up"
note "one-node cluster up (slurm $(slurmctld -V | awk '{print $2}'), port $PORT)"

wait_job() {  # waits until job $1 has no task queued or running (at most $2 seconds)
  for _ in $(seq 1 $(($2 * 2))); do [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0; sleep 0.5; done
  fail "job $1 still queued or running after $2 s"
}
without_wall() { awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_s") w = i } { $w = ""; print }' "$1"; }

# 1. An array equals a local sweep.
ARGS=(grammars/cfg3f-l3.cfg --sizes tiny,xs --variants 1gram,3gram-out --steps 60 --eval-every 20 --val-samples 60
      --gen-samples 16 --threads 1)
"$CFG_RUN" "${ARGS[@]}" --out "$T/local.csv" 2>"$T/log/local.err" || fail "the local sweep failed"
id=$("$CFG_RUN" "${ARGS[@]}" --out "$T/array.csv" --slurm 2>"$T/log/submit.err") || fail "submission failed: $(cat "$T/log/submit.err")"
grep -q "#SBATCH --array=0-3" "$T/array.csv.runs/sweep.sbatch" || fail "the script's array is not 0-3"
note "submitted job $id (4 units)"
wait_job "$id" 300
"$CFG_RUN" merge "$T/array.csv" 2>"$T/log/merge.err" || fail "merge: $(cat "$T/log/merge.err")"
diff <(without_wall "$T/local.csv") <(without_wall "$T/array.csv") >&2 || fail "the merged CSV differs from the local one"
note "array of 4 tasks merged: identical to the local sweep (wall_s aside)"
again=$("$CFG_RUN" "${ARGS[@]}" --out "$T/array.csv" --slurm 2>&1) || fail "rerun after completion: $again"
echo "$again" | grep -q "nothing to submit" || fail "a rerun of a finished array submitted again: $again"

# 2. A task cancelled mid-run; the rerun submits only its unit, which resumes from its checkpoint.
LONG=(grammars/cfg3f-l3.cfg --sizes tiny --variants 1gram,3gram-in --steps 6000 --eval-every 250 --val-samples 60
      --gen-samples 16 --threads 1)
id=$("$CFG_RUN" "${LONG[@]}" --out "$T/killed.csv" --slurm 2>"$T/log/submit2.err") || fail "submission failed: $(cat "$T/log/submit2.err")"
shard="$T/killed.csv.runs/tiny_3gram-in_seed1.csv"
for _ in $(seq 1 600); do [ -f "$shard" ] && [ "$(wc -l <"$shard")" -ge 3 ] && break; sleep 0.1; done
[ "$(wc -l <"$shard")" -ge 3 ] || fail "unit 1 never reached its second checkpoint"
[ -f "${shard%.csv}.done" ] && fail "unit 1 finished before it could be cancelled (make the run longer)"
scancel "${id}_1"
note "cancelled task ${id}_1 after its checkpoint at step $(( ($(wc -l <"$shard") - 1) * 250 ))"
wait_job "$id" 300
set +e
"$CFG_RUN" merge "$T/killed.csv" 2>"$T/log/merge2.err"
status=$?
set -e
[ $status -eq 1 ] || fail "merge with a unit missing exited $status, not 1: $(cat "$T/log/merge2.err")"
grep -q "missing: unit 1 (tiny 3gram-in seed 1): checkpointed at step" "$T/log/merge2.err" || fail "merge did not name the missing unit: $(cat "$T/log/merge2.err")"
id2=$("$CFG_RUN" "${LONG[@]}" --out "$T/killed.csv" --slurm 2>"$T/log/submit3.err") || fail "resubmission failed: $(cat "$T/log/submit3.err")"
grep -q "#SBATCH --array=1$" "$T/killed.csv.runs/sweep.sbatch" || fail "the resubmission is not unit 1 alone: $(grep array "$T/killed.csv.runs/sweep.sbatch")"
wait_job "$id2" 300
grep -q "resuming from its checkpoint at step" "$T/killed.csv.runs/slurm-${id2}_1.out" || fail "the resubmitted task did not resume from its checkpoint"
"$CFG_RUN" merge "$T/killed.csv" 2>"$T/log/merge3.err" || fail "merge after resubmission: $(cat "$T/log/merge3.err")"
"$CFG_RUN" "${LONG[@]}" --out "$T/killed-local.csv" 2>"$T/log/local2.err" || fail "the local sweep failed"
diff <(without_wall "$T/killed-local.csv") <(without_wall "$T/killed.csv") >&2 || fail "the resumed array's CSV differs from the local one"
note "cancelled task resubmitted alone, resumed from its checkpoint, merged: identical to the local sweep"

# 3. Paths that sbatch and bash must each be given quoted (the grammar keeps its name: the CSV names it).
ODD="$T/it's a \"dir\" #1 %j"
mkdir "$ODD"
cp "${ARGS[0]}" "$ODD/"
id=$(cd "$ODD" && "$CFG_RUN" sweep "${ARGS[@]:1}" --out "array b.csv" --slurm -- "$ODD/$(basename "${ARGS[0]}")" \
  2>"$T/log/submit4.err") || fail "submission from $ODD failed: $(cat "$T/log/submit4.err")"
note "submitted job $id (4 units) from $ODD"
wait_job "$id" 300
for task in 0 1 2 3; do
  [ -f "$ODD/array b.csv.runs/slurm-${id}_$task.out" ] || fail "no log of task $task in $ODD/array b.csv.runs: $(ls "$ODD/array b.csv.runs")"
done
"$CFG_RUN" merge "$ODD/array b.csv" 2>"$T/log/merge4.err" || fail "merge: $(cat "$T/log/merge4.err")"
diff <(without_wall "$T/local.csv") <(without_wall "$ODD/array b.csv") >&2 || fail "the merged CSV from $ODD differs from the local one"
note "array from a folder with a space, quotes, '#' and '%' in its name merged: identical to the local sweep"
note "passed"
