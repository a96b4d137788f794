#!/usr/bin/env python3
"""Training speed, cfg-run against PyTorch on the CPU, side by side in one run (driven by bench/train.sh).

For every shape (layers, width, heads), design and thread count: `cfg-run bench` and bench/torch_reference.py
(the same model in eager PyTorch) alternately, REPEATS times each, each measurement the median step of --steps
steps; then, once per shape and design at the largest thread count, torch.compile (its compilation untimed). Prints
every measurement as it comes (stderr), then a Markdown table of medians: tokens/s, cfg-run's GFLOP/s and its
fraction of the machine's matrix-multiply rate (`cfg-run bench --gemm`, measured in the same run), and the ratios.

    bench/train.py --suite deep --repeats 3        # issue 14's shapes: batch 16 x seq 64, three designs, 1 and 2 threads
    bench/train.py --suite wide --repeats 5        # the training engine's shapes: batch 16 x seq 256, 3gram-hin, 2 threads
    bench/train.py --suite study --repeats 3 --baseline OLD_CFG_RUN   # the second round's shapes, one thread,
                                                   # and an older cfg-run measured alternately beside the new one
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CFG_RUN = os.environ.get("CFG_RUN", os.path.join(ROOT, ".build", "release", "cfg-run"))

# Designs as the two engines spell them: cfg-run's --input/--output, the reference's input and class count (V = 3
# terminals, 5 base ids; 3gram-out's joint head has 27 + 1 + 3 + 9 = 40 classes).
DESIGNS = {
    "1gram": (["--input", "1gram", "--output", "1gram"], ["--input", "token", "--classes", "5"]),
    "3gram-hin": (["--input", "3gram-hin", "--output", "1gram"], ["--input", "hierarchical", "--n", "3", "--classes", "5"]),
    "3gram-out": (["--input", "1gram", "--output", "3gram-out"], ["--input", "token", "--classes", "40"]),
}
SUITES = {
    "deep": dict(shapes=[(8, 32, 2), (8, 64, 4), (12, 64, 4), (12, 128, 4), (2, 64, 2)], seq=64,
                 designs=["1gram", "3gram-hin", "3gram-out"], threads=[1, 2]),
    "wide": dict(shapes=[(2, 64, 2), (4, 128, 4), (6, 256, 4), (8, 384, 6)], seq=256, designs=["3gram-hin"], threads=[2]),
    # Issue 21: the second round's four widths at depth 8 on one thread (how the study trains), and the two shapes
    # carried over at two threads.
    "study": dict(shapes=[(8, 8, 1), (8, 16, 1), (8, 32, 2), (8, 64, 4)], seq=64, designs=["3gram-hin"], threads=[1]),
    "study-2t": dict(shapes=[(8, 64, 4), (12, 128, 4)], seq=64, designs=["3gram-hin"], threads=[2]),
}


def run_json(command, env=None):
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=SUITES, default="deep")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--python", default=os.environ.get("PYTHON", "/work/torchenv/bin/python"))
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument("--shapes", help="only these shapes, e.g. 8x32x2,12x128x4")
    ap.add_argument("--baseline", help="an older cfg-run binary, measured alternately beside CFG_RUN (its speed-up column)")
    a = ap.parse_args()
    if a.baseline and not (os.path.isfile(a.baseline) and os.access(a.baseline, os.X_OK)):
        ap.error(f"--baseline {a.baseline}: not an executable file (give an older cfg-run binary)")
    suite = SUITES[a.suite]
    shapes = suite["shapes"]
    if a.shapes:
        shapes = [tuple(int(x) for x in s.split("x")) for s in a.shapes.split(",")]
    seq = suite["seq"]
    log = lambda text: print(text, file=sys.stderr, flush=True)

    # The machine's matrix-multiply rate, per thread count: the best median GFLOP/s over the training shapes.
    peak = {}
    for threads in suite["threads"]:
        text = subprocess.run([CFG_RUN, "bench", "--gemm", "--threads", str(threads), "--repeats", "5", "--json"],
                              check=True, capture_output=True, text=True).stdout
        rates = [json.loads(line)["gflops"] for line in text.splitlines() if line.startswith("{")]
        peak[threads] = max(rates)
        log(f"gemm, {threads} thread(s): best shape {peak[threads]:.1f} GFLOP/s")

    rows = []
    for (layers, width, heads) in shapes:
        for design in suite["designs"]:
            swift_args, torch_args = DESIGNS[design]
            shape = ["--layers", str(layers), "--d", str(width), "--heads", str(heads), "--batch", "16",
                     "--seq", str(seq), "--steps", str(a.steps)]
            for threads in suite["threads"]:
                swift, torch, gflops, before = [], [], [], []
                for r in range(a.repeats):
                    if a.baseline:
                        b = run_json([a.baseline, "bench", *shape, "--threads", str(threads), *swift_args, "--json"])
                        before.append(b["tokens_per_s"])
                    s = run_json([CFG_RUN, "bench", *shape, "--threads", str(threads), *swift_args, "--json"])
                    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
                    t = run_json([a.python, os.path.join(ROOT, "bench", "torch_reference.py"), *shape,
                                  "--threads", str(threads), *torch_args, "--json"], env)
                    swift.append(s["tokens_per_s"])
                    gflops.append(s["gflops"])
                    torch.append(t["tokens_per_s"])
                    log(f"({layers},{width},{heads}) {design} {threads}t: cfg-run {s['tokens_per_s']:.0f} "
                        f"({s['gflops']:.1f} GFLOP/s), torch {t['tokens_per_s']:.0f}"
                        + (f", baseline cfg-run {before[-1]:.0f}" if before else ""))
                compiled = None
                if not a.no_compile and threads == max(suite["threads"]):
                    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
                    try:
                        c = run_json([a.python, os.path.join(ROOT, "bench", "torch_reference.py"), *shape,
                                      "--threads", str(threads), *torch_args, "--compile", "--json"], env)
                        compiled = c["tokens_per_s"]
                        log(f"({layers},{width},{heads}) {design} {threads}t: torch.compile {compiled:.0f}")
                    except subprocess.CalledProcessError as error:
                        log(f"torch.compile failed: {error.stderr[-500:]}")
                rows.append(dict(shape=(layers, width, heads), design=design, threads=threads,
                                 swift=statistics.median(swift), torch=statistics.median(torch),
                                 gflops=statistics.median(gflops), compiled=compiled,
                                 before=statistics.median(before) if before else None))

    baseline = " baseline cfg-run tok/s | speed-up |" if a.baseline else ""
    print(f"\n| shape (L,d,h) | design | threads | cfg-run tok/s | GFLOP/s | of GEMM rate | PyTorch eager tok/s | "
          f"cfg-run / eager | torch.compile tok/s | cfg-run / compiled |{baseline}")
    print("|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if a.baseline else ""))
    for r in rows:
        comp = f"{r['compiled']:.0f} | {r['swift'] / r['compiled']:.2f}x" if r["compiled"] else "- | -"
        then = f" {r['before']:.0f} | {r['swift'] / r['before']:.2f}x |" if r["before"] else ""
        print(f"| ({r['shape'][0]},{r['shape'][1]},{r['shape'][2]}) | {r['design']} | {r['threads']} | {r['swift']:.0f} | "
              f"{r['gflops']:.1f} | {100 * r['gflops'] / peak[r['threads']]:.0f}% | {r['torch']:.0f} | "
              f"{r['swift'] / r['torch']:.2f}x | {comp} |{then}")
    print(f"\nGEMM rate (best median of `cfg-run bench --gemm`): " +
          ", ".join(f"{t} thread(s) {p:.1f} GFLOP/s" for t, p in peak.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
