#!/usr/bin/env python3
"""The verdicts of results/README.md's second-round protocol, computed mechanically from the sweeps' CSVs.

For every size (model width) in the files, at its final evaluation (the largest step): the 1gram baseline's mean
generation accuracy decides the metric — generation accuracy where it is between 5% and 95%, excess per character
below or above (floor or ceiling). For each comparison, the difference (variant - baseline) paired by seed, its mean
and 95% t-interval, and whether the variant is better (interval on the better side of 0), worse, or not separated;
beside it the same for the other metric (both metrics' intervals are reported; the deciding one gives the verdict).
Then the four claims and the crossover width, by the protocol's rules. Give each width's verdict budget (its plateau budget, or
its longest: results/README.md, Amendment 1). A run that
ends before its size's final step, or diverged, is left out and named, and the output ends UNDECIDED with exit
status 1. Plain Python, no packages.

With --claims, prints instead every reading of the table (both metrics) as `cfg-run assert` claims, one block per
file, for results/findings.sh: "better" and "worse" as '<' or '>' with 95% confidence, "tie" as '~'.

Usage: tools/verdicts.py [--claims] RESULTS.csv...
"""
import argparse
import csv
import math
import sys
from collections import defaultdict

from learning_curves import interval  # mean and 95% t half-width, as that tool reports them

COMPARISONS = [("3gram-in", "1gram"), ("3gram-hin", "1gram"), ("3gram-out", "1gram"), ("2gram-out", "1gram"),
               ("3gram-gpt", "1gram"), ("3gram-hin", "3gram-in"), ("3gram-out", "2gram-out")]


def final_rows(paths):
    """The runs of results files at their final evaluation, by the rule `cfg-run assert` uses.

    Returns (finals, params, file_of, dropped): finals[size][(variant, seed)] is a run's last row, for the runs whose
    last row is at their size's final step (the largest step of any run of that size) with status ok; params[size]
    and file_of[size] are the size's nonembedding parameter count and the file it came from (a later file's runs
    replace an earlier one's); dropped lists the other runs as (size, variant, seed, last row, the size's final step),
    sizes in order of parameters. Never computed on a subset as if it were the whole: the callers name the dropped.
    """
    finals = defaultdict(dict)
    params, file_of = {}, {}
    for path in paths:
        rows = defaultdict(list)
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                rows[(row["size"], row["variant"], row["seed"])].append(row)
        for (size, variant, seed), run in rows.items():
            finals[size][(variant, seed)] = max(run, key=lambda r: int(r["step"]))
            params[size] = int(run[0]["nonembed_params"])
            file_of[size] = path
    dropped = []
    for size in sorted(finals, key=lambda s: params[s]):
        final = max(int(r["step"]) for r in finals[size].values())
        for (variant, seed), row in list(finals[size].items()):
            if int(row["step"]) < final or row["status"] != "ok":
                dropped.append((size, variant, seed, row, final))
                del finals[size][(variant, seed)]
    return finals, params, file_of, dropped


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--claims", action="store_true", help="print the readings as cfg-run assert claims")
    args = parser.parse_args()
    finals, params, file_of, dropped = final_rows(args.files)
    sizes = sorted(finals, key=lambda s: params[s])
    left_out = []
    excluded = defaultdict(set)  # size -> (variant, seed) of the runs left out
    for size, variant, seed, row, final in dropped:
        why = f"ends at step {row['step']} of {final}" if int(row["step"]) < final else f"status {row['status']}"
        left_out.append(f"{size} {variant} seed {seed} ({why})")
        excluded[size].add((variant, seed))
    # A merged CSV of an unfinished sweep holds only its finished runs: a design with fewer seeds than its size's
    # others is missing runs, not a smaller experiment, so those are named too and nothing is decided. (A design
    # absent at a size altogether, as at a doubled budget under Amendment 1, is simply not compared.)
    for size in sizes:
        runs = set(finals[size]) | excluded[size]
        seeds = {s for (_, s) in runs}
        for variant in sorted({v for (v, _) in runs}):
            for seed in sorted(seeds - {s for (v, s) in runs if v == variant}, key=int):
                left_out.append(f"{size} {variant} seed {seed} (not in the file)")

    if args.claims and left_out:
        print(f"UNDECIDED: {len(left_out)} runs unfinished, diverged or missing: {'; '.join(left_out)}", file=sys.stderr)
        return 1
    outcome = {}  # (size, variant, baseline) -> "better" | "worse" | "tie"
    claims = defaultdict(list)  # file -> cfg-run assert claims

    def claim(size, variant, baseline, metric, reading):
        """A reading as a claim of `cfg-run assert`."""
        if reading == "tie":
            relation = "~"
        else:
            lower = (reading == "better") != (metric == "gen_accuracy")
            relation = "<" if lower else ">"
        confidence = "" if reading == "tie" else " with 95% confidence"
        claims[file_of[size]].append(f"{variant} {relation} {baseline} on {metric} at size {size}{confidence}")

    # With --claims the table and claims below are not printed, only the claims as assert lines at the end.
    say = (lambda *_, **__: None) if args.claims else print
    say("| size | steps | 1gram accuracy | deciding metric | comparison | difference [95% interval] | seeds | reading "
          "| other metric: difference [95% interval], reading |")
    say("|---|---|---|---|---|---|---|---|---|")

    def paired(runs, variant, baseline, seeds, metric):
        """The paired difference's mean, interval and reading on `metric` (higher accuracy, lower excess is better)."""
        diffs = [float(runs[(variant, s)][metric]) - float(runs[(baseline, s)][metric]) for s in seeds]
        mean, half = interval(diffs)
        low, high = mean - half, mean + half
        if not math.isnan(half) and (low > 0 or high < 0):
            reading = "better" if (low > 0) == (metric == "gen_accuracy") else "worse"
        else:
            reading = "tie"
        scale, unit = (100, " pts") if metric == "gen_accuracy" else (1, "")
        return f"{scale * mean:+.4g}{unit} [{scale * low:+.4g}, {scale * high:+.4g}]", reading
    for size in sizes:
        runs = finals[size]
        steps = sorted({int(r["step"]) for r in runs.values()})
        base = [float(r["gen_accuracy"]) for (v, _), r in runs.items() if v == "1gram"]
        if not base:
            print(f"{size}: no 1gram runs", file=sys.stderr)
            continue
        base_acc = sum(base) / len(base)
        metric = "gen_accuracy" if 0.05 <= base_acc <= 0.95 else "excess_per_char"
        higher_is_better = metric == "gen_accuracy"
        for variant, baseline in COMPARISONS:
            seeds = sorted({s for (v, s) in runs if v == variant} & {s for (v, s) in runs if v == baseline}, key=int)
            if not seeds:
                continue
            text, reading = paired(runs, variant, baseline, seeds, metric)
            outcome[(size, variant, baseline)] = reading
            other = "excess_per_char" if higher_is_better else "gen_accuracy"
            other_text, other_reading = paired(runs, variant, baseline, seeds, other)
            claim(size, variant, baseline, metric, reading)
            claim(size, variant, baseline, other, other_reading)
            say(f"| {size} | {'/'.join(map(str, steps))} | {100 * base_acc:.1f}% | {metric} | {variant} - {baseline} | "
                  f"{text} | {len(seeds)} | {reading} | {other}: {other_text}, {other_reading} |")

    def at(size, variant, baseline):
        return outcome.get((size, variant, baseline))

    say()
    smallest, widest = sizes[0], sizes[-1]
    for name, variant in [("1 (n-gram input helps every size), 3gram-in", "3gram-in"),
                          ("1 (n-gram input helps every size), 3gram-hin", "3gram-hin")]:
        readings = [at(s, variant, "1gram") for s in sizes]
        if all(r is None for r in readings):
            continue
        verdict = ("reproduced" if all(r == "better" for r in readings)
                   else "reversed" if any(r == "worse" for r in readings)
                   else "undecided (no runs at some width)" if any(r is None for r in readings) else "not reproduced")
        say(f"- Claim {name}: {verdict} ({', '.join(f'{s} {r}' for s, r in zip(sizes, readings))})")
    for name, variant in [("2 (n-gram output hurts small, helps large), 3gram-out", "3gram-out"),
                          ("2, 2gram-out", "2gram-out"),
                          ("3 (a full n-gram tokenizer behaves like n-gram output), 3gram-gpt", "3gram-gpt")]:
        if all(at(s, variant, "1gram") is None for s in sizes):
            continue
        small, large = at(smallest, variant, "1gram"), at(widest, variant, "1gram")
        verdict = ("reproduced" if small == "worse" and large == "better"
                   else "reversed" if small == "better" and large == "worse"
                   else "undecided (no runs at some width)" if small is None or large is None else "not reproduced")
        readings = [at(s, variant, "1gram") for s in sizes]
        crossover = None
        for i, size in enumerate(sizes):
            if all(at(s, variant, "1gram") != "worse" for s in sizes[i:]):
                crossover = size
                break
        if all(r != "worse" for r in readings):
            where = "never worse in this regime"
        elif crossover is None:
            where = "worse up to the widest width"
        else:
            where = f"crossover at {crossover} (worse at {sizes[sizes.index(crossover) - 1]})"
        say(f"- Claim {name}: {verdict} ({', '.join(f'{s} {r}' for s, r in zip(sizes, readings))}; {where})")
    small_sizes = sizes[:2]
    readings = [at(s, "3gram-hin", "3gram-in") for s in small_sizes]
    verdict = ("undecided (no runs at some width)" if any(r is None for r in readings)
               else "reproduced" if any(r == "better" for r in readings) and not any(r == "worse" for r in readings)
               else "reversed" if any(r == "worse" for r in readings) else "not reproduced")
    if any(r is not None for r in readings):
        say(f"- Claim 4 (hierarchical beats plain n-gram input on small models): {verdict} "
              f"({', '.join(f'{s} {r}' for s, r in zip(small_sizes, readings))})")
    readings = [at(s, "3gram-out", "2gram-out") for s in sizes]
    if any(r is not None for r in readings):
        say(f"- Does the output harm grow with n, 3gram-out - 2gram-out: "
              f"{', '.join(f'{s} {r}' for s, r in zip(sizes, readings))}")
    if args.claims:
        for path, lines in claims.items():
            print(f"check {path} \\")
            print(" \\\n".join(f"  '{line}'" for line in lines))
        return 0
    if left_out:
        print(f"\nUNDECIDED: {len(left_out)} runs unfinished, diverged or missing, left out of everything above: "
              f"{'; '.join(left_out)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
