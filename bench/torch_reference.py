#!/usr/bin/env python3
"""Training-speed baseline: the cfg-run GPT (tools/torch_reference.py, the same model as the Swift engine) trained
in eager PyTorch, float32, on the CPU, as a researcher's notebook would run it (no torch.compile).

    python bench/torch_reference.py --layers 4 --d 128 --heads 4 --batch 16 --seq 256 --steps 20 --threads 2 \\
        --input hierarchical --n 3 --positions learned --vocab 5 --classes 5 [--json]

Attention uses F.scaled_dot_product_attention by default (as nanoGPT does); --attention manual times the
written-out path of the fixtures. Times `--steps` steps of forward + backward + grad-norm clipping + AdamW on
random data (a new batch each step, generated before timing) after `--warmup` untimed steps, and prints tokens/s
(batch x seq per step) and ms/step from the median step time (as `cfg-run bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_reference import GPT, CausalSelfAttention, Config, init_gpt2, make_optimizer  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--input", choices=["token", "ngram", "hierarchical", "hashed"], default="hierarchical")
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--hash-rows", type=int, default=0)
    ap.add_argument("--hash-slices", type=int, default=0)
    ap.add_argument("--positions", choices=["learned", "rotary"], default="learned")
    ap.add_argument("--mtp-depth", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=5)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--attention", choices=["sdpa", "manual"], default="sdpa",
                    help="sdpa: F.scaled_dot_product_attention (as nanoGPT does, default); manual: softmax(QK^T)V "
                         "written out with a materialised T x T matrix (the fixtures' reference path)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help='print {"tokens_per_s": ..., "ms_per_step": ...}')
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    CausalSelfAttention.use_sdpa = a.attention == "sdpa"
    torch.manual_seed(a.seed)
    cfg = Config(
        vocab=a.vocab, classes=a.classes, layers=a.layers, d_model=a.d, heads=a.heads, seq=a.seq, batch=a.batch,
        input=a.input, n=1 if a.input == "token" else a.n, hash_rows=a.hash_rows, hash_slices=a.hash_slices,
        positions=a.positions, mtp_depth=a.mtp_depth,
        mtp_weights=[1.0] + [0.1] * (a.mtp_depth - 1),
    )
    model = GPT(cfg)
    init_gpt2(model)
    opt = make_optimizer(model)
    params = [p for _, p in model.canonical_parameters()]
    n_params = sum(p.numel() for p in params)

    total = a.warmup + a.steps
    xs = torch.randint(0, cfg.vocab, (total, cfg.batch, cfg.seq))
    ys = torch.randint(0, cfg.classes, (total, cfg.batch, cfg.seq))

    def step(i):
        opt.zero_grad(set_to_none=True)
        _, loss = model(xs[i], ys[i])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        return loss.item()

    for i in range(a.warmup):
        step(i)
    # Each step timed on its own; the median, as `cfg-run bench` reports (robust to a neighbour's burst).
    times = []
    for i in range(a.warmup, total):
        t0 = time.perf_counter()
        loss = step(i)
        times.append(time.perf_counter() - t0)
    dt = sorted(times)[len(times) // 2]

    ms = 1000 * dt
    tps = cfg.batch * cfg.seq / dt
    if a.json:
        print(json.dumps({"tokens_per_s": round(tps, 1), "ms_per_step": round(ms, 3)}))
    else:
        print(f"torch {torch.__version__}, {a.threads} threads; L={a.layers} D={a.d} H={a.heads} "
              f"B={a.batch} T={a.seq} input={a.input} n={cfg.n} positions={a.positions} attention={a.attention}; "
              f"{n_params} params")
        print(f"{tps:.0f} tokens/s, {ms:.1f} ms/step (median of {a.steps} steps; last loss {loss:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
