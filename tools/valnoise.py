#!/usr/bin/env python3
"""Validation-set noise, measured (results/README.md, Addition 1): how much the paired excess differences of the
second round's tables move when the same final checkpoints are scored on another, larger validation set.

Give pairs of files: a sweep's CSV and its `cfg-run rescore` output. For every comparison of tools/verdicts.py
(3gram-in - 1gram, ...) at every size and seed present in both, the paired excess difference on the sweep's own
validation set minus the same difference on the rescored set. Prints, per pair and over all, the number of such
differences and their root mean square (per seed), and the root mean square of the seed-mean differences' shifts
(what a table's mean difference moves by). With a rescored set 20 times larger, the shifts are mostly the
sweep's set's own sampling noise (the larger set's part has about a fifth of its standard deviation). A run
unfinished or diverged in either file is left out and named. Plain Python, no packages.

Usage: tools/valnoise.py SWEEP.csv RESCORED.csv [SWEEP.csv RESCORED.csv ...]
"""
import math
import sys
from verdicts import COMPARISONS, final_rows


def finals(path):
    """(size, variant, seed) -> final excess, for the runs that count (tools/verdicts.py's rule); and the others."""
    runs, _, _, dropped = final_rows([path])
    good = {(size, variant, seed): float(row["excess_per_char"])
            for size, by_run in runs.items() for (variant, seed), row in by_run.items()}
    bad = [f"{path}: {size} {variant} {seed} (step {row['step']}, status {row['status']})"
           for size, variant, seed, row, _ in dropped]
    return good, bad


def rms(xs):
    return math.sqrt(sum(x * x for x in xs) / len(xs)) if xs else float("nan")


def main():
    paths = sys.argv[1:]
    if not paths or len(paths) % 2:
        sys.exit(__doc__.split("Usage: ")[1].strip() + "\n(pairs of files: each sweep's CSV, then its rescored CSV)")
    all_seeds, all_means = [], []
    left_out = []
    print("| sweep | rescored | paired differences | RMS shift per seed | comparisons | RMS shift of the seed mean |")
    print("|---|---|---|---|---|---|")
    for sweep_path, rescored_path in zip(paths[::2], paths[1::2]):
        small, bad_small = finals(sweep_path)
        large, bad_large = finals(rescored_path)
        left_out += bad_small + bad_large
        shifts, mean_shifts = [], []
        sizes = sorted({key[0] for key in small})
        for size in sizes:
            for a, b in COMPARISONS:
                seeds = sorted({s for (z, v, s) in small if z == size and v == a})
                per_seed = []
                for seed in seeds:
                    keys = [(size, a, seed), (size, b, seed)]
                    if all(k in small and k in large for k in keys):
                        per_seed.append((small[keys[0]] - small[keys[1]]) - (large[keys[0]] - large[keys[1]]))
                shifts += per_seed
                if per_seed:
                    mean_shifts.append(sum(per_seed) / len(per_seed))
        all_seeds += shifts
        all_means += mean_shifts
        print(f"| {sweep_path} | {rescored_path} | {len(shifts)} | {rms(shifts):.4f} | {len(mean_shifts)} | {rms(mean_shifts):.4f} |")
    print(f"| all | | {len(all_seeds)} | {rms(all_seeds):.4f} | {len(all_means)} | {rms(all_means):.4f} |")
    for line in left_out:
        print(f"left out: {line}")


if __name__ == "__main__":
    main()
