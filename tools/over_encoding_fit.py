#!/usr/bin/env python3
"""Log-linear fit of the final loss against log10(m) for hashed Over-Encoding variants (`Ngram-hin@m=M,k=K`) of a
cfg-run results CSV: the slope fitted to the mean over seeds, and the slope fitted per seed with its mean and 95%
t-interval (the paper's fit on OLMoE-1.3B: loss = 2.6754 - 0.0256 log10 m). Plain Python, no packages.

Usage: tools/over_encoding_fit.py RESULTS.csv [--metric val_loss_per_char]
"""
import argparse
import csv
import math
import re
from collections import defaultdict

T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    se = math.sqrt(residual / (n - 2) / sxx) if n > 2 else float("nan")
    return intercept, slope, se


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results")
    parser.add_argument("--metric", default="val_loss_per_char")
    args = parser.parse_args()
    last = {}
    with open(args.results, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["size"], row["variant"], row["seed"])
            if key not in last or int(row["step"]) > int(last[key]["step"]):
                last[key] = row
    values = defaultdict(dict)  # m -> seed -> value
    for (size, variant, seed), row in last.items():
        match = re.search(r"@m=(\d+)", variant)
        if match:
            values[int(match.group(1))][seed] = float(row[args.metric])
    ms = sorted(values)
    seeds = sorted(set.intersection(*[set(values[m]) for m in ms]), key=int)
    print(f"{args.results}: final {args.metric} against log10(m), m = {ms}, seeds {seeds}")
    for m in ms:
        per = [values[m][s] for s in seeds]
        print(f"  m = {m:5d}: mean {sum(per) / len(per):.4f}  per seed " + ", ".join(f"{v:.4f}" for v in per))
    xs = [math.log10(m) for m in ms]
    means = [sum(values[m][s] for s in seeds) / len(seeds) for m in ms]
    intercept, slope, se = fit(xs, means)
    print(f"  fit to the means: loss = {intercept:.4f} {slope:+.4f} log10(m)  (slope standard error {se:.4f})")
    slopes = [fit(xs, [values[m][s] for m in ms])[1] for s in seeds]
    mean = sum(slopes) / len(slopes)
    if len(slopes) > 1:
        sd = math.sqrt(sum((x - mean) ** 2 for x in slopes) / (len(slopes) - 1))
        half = T975[min(len(slopes) - 1, len(T975)) - 1] * sd / math.sqrt(len(slopes))
        print(f"  per-seed slopes: " + ", ".join(f"{x:+.4f}" for x in slopes)
              + f"; mean {mean:+.4f} [{mean - half:+.4f}, {mean + half:+.4f}]")


if __name__ == "__main__":
    main()
