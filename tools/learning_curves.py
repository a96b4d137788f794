#!/usr/bin/env python3
"""Output-side saturation analysis of a cfg-run results CSV (results/README.md quotes its output).

For every size: the learning curve of `excess_per_char` for a variant and a baseline (mean over seeds at each
evaluation step), the final difference (variant - baseline) with per-seed values and a 95% t-interval, and the
crossover step: the first evaluation step from which the mean difference stays below zero to the end (none if
it never does; "from the start" if it always is). Per-seed crossovers too. Plain Python, no packages.

Usage: tools/learning_curves.py RESULTS.csv [--variant 3gram-out] [--baseline 1gram] [--metric excess_per_char]
"""
import argparse
import csv
import math
from collections import defaultdict

T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def interval(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T975[min(n - 1, len(T975)) - 1] * sd / math.sqrt(n)


def crossover(steps, differences):
    """First step from which every later difference is negative; None if the last one is not."""
    if differences[-1] >= 0:
        return None
    first = len(steps) - 1
    while first > 0 and differences[first - 1] < 0:
        first -= 1
    return steps[first]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results")
    parser.add_argument("--variant", default="3gram-out")
    parser.add_argument("--baseline", default="1gram")
    parser.add_argument("--metric", default="excess_per_char")
    args = parser.parse_args()

    curves = defaultdict(dict)  # (size, variant, seed) -> {step: value}
    params = {}
    grammar = ""
    with open(args.results, newline="") as f:
        for row in csv.DictReader(f):
            grammar = row["grammar"]
            curves[(row["size"], row["variant"], row["seed"])][int(row["step"])] = float(row[args.metric])
            params[row["size"]] = int(row["nonembed_params"])
    sizes = sorted(params, key=lambda s: params[s])
    print(f"{args.results} (grammar {grammar}): {args.variant} - {args.baseline} on {args.metric}")
    for size in sizes:
        seeds = sorted({seed for (s, v, seed) in curves if s == size and v == args.variant}
                       & {seed for (s, v, seed) in curves if s == size and v == args.baseline}, key=int)
        if not seeds:
            continue
        steps = sorted(set.intersection(*[set(curves[(size, v, seed)]) for seed in seeds
                                           for v in (args.variant, args.baseline)]))
        per_seed = {seed: [curves[(size, args.variant, seed)][s] - curves[(size, args.baseline, seed)][s]
                           for s in steps] for seed in seeds}
        mean_curve = [sum(per_seed[seed][i] for seed in seeds) / len(seeds) for i in range(len(steps))]
        final = [per_seed[seed][-1] for seed in seeds]
        mean, half = interval(final)
        base_final = [curves[(size, args.baseline, seed)][steps[-1]] for seed in seeds]
        separated = not math.isnan(half) and abs(mean) > half
        verdict = ("below (helps)" if mean < 0 else "above (hurts)") + (", interval excludes 0" if separated else ", interval includes 0")
        c = crossover(steps, mean_curve)
        cross = "never" if c is None else ("from the first evaluation" if c == steps[0] else f"step {c}")
        seed_cross = ", ".join(
            f"seed {seed}: " + ("never" if crossover(steps, per_seed[seed]) is None else str(crossover(steps, per_seed[seed])))
            for seed in seeds)
        print(f"  size {size} ({params[size]} non-embedding parameters), {len(seeds)} seeds, steps {steps[0]}..{steps[-1]}:")
        print(f"    final {args.baseline} {args.metric}: mean {sum(base_final) / len(base_final):.4f}; "
              f"{args.variant} - {args.baseline} = {mean:+.4f} [{mean - half:+.4f}, {mean + half:+.4f}] -> {verdict}")
        print(f"    per seed: " + ", ".join(f"{seed}: {v:+.4f}" for seed, v in zip(seeds, final)))
        print(f"    crossover (mean curve stays below 0 from): {cross}; per seed: {seed_cross}")
        # How flat the baseline is at the end: its change over the last quarter of training.
        quarter = steps[len(steps) * 3 // 4]
        drop = [curves[(size, args.baseline, seed)][quarter] - curves[(size, args.baseline, seed)][steps[-1]] for seed in seeds]
        print(f"    {args.baseline} improvement over the last quarter (step {quarter} -> {steps[-1]}): "
              f"{sum(drop) / len(drop):.4f} nats/char (mean over seeds)")


if __name__ == "__main__":
    main()
