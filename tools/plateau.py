#!/usr/bin/env python3
"""The plateau test of results/README.md's protocol: does doubling the budget still change the baseline?

Reads results CSVs of the same sweep at several budgets (e.g. a 20,000-step sweep and its extension to 40,000 with
`--extend-from`). For every size and budget: the baseline variant's mean over seeds of the final generation accuracy
and excess per character. From each budget to the next larger one, the size is at its plateau when the mean
accuracy moved by less than --accuracy points (absolute, default 2) and the mean excess fell by less than --excess
of itself (relative, default 3%) or less than --excess-abs nats/char (default 0.002). Prints a CSV line per size and
pair of budgets. Only the seeds present at both budgets are compared; a run that ends before the final step of its
file (an unfinished sweep), or that diverged, is named and left out, and the exit status is then 1. Plain Python, no packages.

Usage: tools/plateau.py RESULTS.csv... [--variant 1gram] [--accuracy 2] [--excess 0.03] [--excess-abs 0.002]
"""
import argparse
import csv
import sys
from collections import defaultdict


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--variant", default="1gram", help="the variant whose plateau decides (default 1gram)")
    parser.add_argument("--accuracy", type=float, default=2.0, help="largest move of gen_accuracy, in points")
    parser.add_argument("--excess", type=float, default=0.03, help="largest relative fall of excess_per_char")
    parser.add_argument("--excess-abs", type=float, default=0.002, help="or largest absolute fall, nats/char")
    args = parser.parse_args()

    # size -> budget (the run's last step) -> seed -> final row
    finals = defaultdict(lambda: defaultdict(dict))
    unfinished = []
    for path in args.files:
        runs = defaultdict(list)
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                if row["variant"] == args.variant:
                    runs[(row["size"], row["seed"])].append(row)
        # A file is one budget: a run whose last row is before its size's final step in the file is unfinished, and
        # is named and left out (exit status 1), never compared as if it were a budget of its own.
        budget = defaultdict(int)
        for (size, seed), rows in runs.items():
            budget[size] = max(budget[size], max(int(r["step"]) for r in rows))
        for (size, seed), rows in runs.items():
            last = max(rows, key=lambda r: int(r["step"]))
            if int(last["step"]) < budget[size]:
                print(f"{path}: {size} seed {seed} ends at step {last['step']} of {budget[size]}: left out",
                      file=sys.stderr)
                unfinished.append(f"{size} seed {seed}")
                continue
            if last["status"] != "ok":
                print(f"{path}: {size} seed {seed} ended with status {last['status']}: left out", file=sys.stderr)
                unfinished.append(f"{size} seed {seed}")
                continue
            finals[size][int(last["step"])][seed] = last
    if not finals:
        sys.exit(f"no rows of variant {args.variant} in {', '.join(args.files)}")

    print("size,seeds,budget,longer_budget,gen_accuracy,longer_gen_accuracy,excess,longer_excess,verdict")
    for size, budgets in finals.items():
        ordered = sorted(budgets)
        if len(ordered) < 2:
            print(f"{size}: only the budget {ordered[0]}; give the files of two budgets", file=sys.stderr)
        for short, long in zip(ordered, ordered[1:]):
            seeds = sorted(set(budgets[short]) & set(budgets[long]), key=int)
            if not seeds:
                print(f"{size}: no seed at both {short} and {long} steps", file=sys.stderr)
                continue

            def mean(budget, column):
                return sum(float(budgets[budget][s][column]) for s in seeds) / len(seeds)

            acc0, acc1 = mean(short, "gen_accuracy"), mean(long, "gen_accuracy")
            ex0, ex1 = mean(short, "excess_per_char"), mean(long, "excess_per_char")
            moved, fell = abs(acc1 - acc0) * 100, ex0 - ex1
            if moved < args.accuracy and (fell < args.excess * ex0 or fell < args.excess_abs):
                verdict = f"plateau at {short} steps"
            else:
                verdict = (f"still learning (accuracy moved {moved:.1f} points, excess fell {fell:.4f} = "
                           f"{100 * fell / ex0 if ex0 > 0 else 0:.0f}%): extend to {2 * long} steps")
            print(f"{size},{len(seeds)},{short},{long},{acc0:.4f},{acc1:.4f},{ex0:.5f},{ex1:.5f},{verdict}")
    return 1 if unfinished else 0


if __name__ == "__main__":
    sys.exit(main())
