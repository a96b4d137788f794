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
import torch.nn.functional as F

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
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the model (inductor, CPU C++ code generation); the warm-up steps include the "
                         "compilation, which is not timed")
    ap.add_argument("--generate", action="store_true",
                    help="time KV-cached sampling instead (token input, learned positions): --batch sequences of "
                         "--seq tokens from token 0, --steps times; as `cfg-run bench --generate`")
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
    if a.generate:
        return bench_generate(model, cfg, a)
    opt = make_optimizer(model)
    params = [p for _, p in model.canonical_parameters()]
    forward = torch.compile(model) if a.compile else model
    n_params = sum(p.numel() for p in params)

    total = a.warmup + a.steps
    xs = torch.randint(0, cfg.vocab, (total, cfg.batch, cfg.seq))
    ys = torch.randint(0, cfg.classes, (total, cfg.batch, cfg.seq))

    def step(i):
        opt.zero_grad(set_to_none=True)
        _, loss = forward(xs[i], ys[i])
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
        print(f"torch {torch.__version__}{' (compiled)' if a.compile else ''}, {a.threads} threads; L={a.layers} D={a.d} H={a.heads} "
              f"B={a.batch} T={a.seq} input={a.input} n={cfg.n} positions={a.positions} attention={a.attention}; "
              f"{n_params} params")
        print(f"{tps:.0f} tokens/s, {ms:.1f} ms/step (median of {a.steps} steps; last loss {loss:.4f})")
    return 0


@torch.no_grad()
def sample_cached(model: GPT, cfg: Config, batch: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """KV-cached sampling as a notebook would write it: preallocated per-layer key/value caches [B, H, length, hd],
    one position per step through every block (SDPA over the cached prefix), multinomial draw at temperature 1.
    `length` forward steps from token 0 (the last step's logits unused), `length - 1` tokens drawn per sequence."""
    L, H, D = cfg.layers, cfg.heads, cfg.d_model
    hd = D // H
    keys = [torch.zeros(batch, H, length, hd) for _ in range(L)]
    values = [torch.zeros(batch, H, length, hd) for _ in range(L)]
    token = torch.zeros(batch, 1, dtype=torch.long)
    out = []
    for t in range(length):
        x = model.embed(token) + model.wpe[t : t + 1]
        for l, block in enumerate(model.h):
            q, k, v = block.attn.c_attn(block.ln_1(x)).split(D, dim=2)
            keys[l][:, :, t] = k[:, 0].view(batch, H, hd)
            values[l][:, :, t] = v[:, 0].view(batch, H, hd)
            q = q.view(batch, 1, H, hd).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, keys[l][:, :, : t + 1], values[l][:, :, : t + 1])
            x = x + block.attn.c_proj(y.transpose(1, 2).reshape(batch, 1, D))
            x = x + block.mlp(block.ln_2(x))
        if t == length - 1:
            break
        logits = model.lm_head(model.ln_f(x))[:, -1]
        token = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=gen)
        out.append(token)
    return torch.cat(out, dim=1)


def bench_generate(model: GPT, cfg: Config, a) -> int:
    assert cfg.input == "token" and cfg.positions == "learned", "--generate times token input, learned positions"
    gen = torch.Generator().manual_seed(a.seed)
    model.eval()
    for _ in range(a.warmup):
        sample_cached(model, cfg, a.batch, a.seq, gen)
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        sample_cached(model, cfg, a.batch, a.seq, gen)
        times.append(time.perf_counter() - t0)
    dt = sorted(times)[len(times) // 2]
    tps = a.batch * (a.seq - 1) / dt
    if a.json:
        print(json.dumps({"tokens_per_s": round(tps, 1), "ms_per_step": round(1000 * dt, 3)}))
    else:
        print(f"torch {torch.__version__}, {a.threads} threads; KV-cached sampling, {a.batch} sequences of {a.seq} "
              f"tokens: {tps:.0f} tokens/s ({1000 * dt:.1f} ms per call, median of {a.steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
