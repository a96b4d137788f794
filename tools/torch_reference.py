#!/usr/bin/env python3
"""PyTorch reference of the cfg-run GPT (the model the Swift training engine implements).

A small, readable nanoGPT-style implementation of the spec, used to write the binary fixtures under
Tests/ModelTests/Fixtures/ that the Swift model is verified against, and to check them again.

    python tools/torch_reference.py fixtures --out Tests/ModelTests/Fixtures            # write all variants
    python tools/torch_reference.py fixtures --out DIR --variants token,rotary           # only some
    python tools/torch_reference.py --check Tests/ModelTests/Fixtures                    # re-read and verify all
    python tools/torch_reference.py --check Tests/ModelTests/Fixtures/token.cfgt         # one file

The model (see Tests/ModelTests/Fixtures/README.md for the full contract):
  input embedding  token | ngram(n) | hierarchical(n) | hashed(n, m, S) (Over-Encoding)
  positions        learned (wpe) | rotary (rotate_half, base 10000)
  blocks           pre-LayerNorm GPT-2 blocks, causal attention, GELU(tanh) MLP
  head             ln_f + lm_head (no bias), C classes; optional sequential multi-token prediction (MTP)
  loss             mean cross-entropy over targets >= 0 (-1 = ignore), summed over MTP heads with weights lam
  optimizer        torch.optim.AdamW, decay on dim >= 2 parameters only, global grad-norm clipping

Reference values are computed in float64 from float32 initial weights and stored as float32.
Needs only torch and numpy (numpy is not used directly; torch warns without it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"CFGT"
VERSION = 1
SEED = 1234
N_STEPS = 10


# ----------------------------------------------------------------------------------------------------------------
# Configuration


@dataclass
class Config:
    vocab: int = 5  # V: base vocabulary, BOS/EOS included
    classes: int = 5  # C: rows of lm_head
    layers: int = 2  # L
    d_model: int = 32  # D
    heads: int = 2  # H
    seq: int = 16  # T (also Tmax, the rows of wpe)
    batch: int = 2  # B
    input: str = "token"  # token | ngram | hierarchical | hashed
    n: int = 1  # n-gram order (1 for token input)
    hash_rows: int = 0  # m (hashed only, else 0)
    hash_slices: int = 0  # S (hashed only, else 0)
    positions: str = "learned"  # learned | rotary
    mtp_depth: int = 1  # J (1 = no multi-token prediction)
    mtp_weights: list = field(default_factory=lambda: [1.0])  # lam[1..J], lam[1] = 1
    lr: float = 1e-3
    betas: list = field(default_factory=lambda: [0.9, 0.98])
    eps: float = 1e-8
    weight_decay: float = 0.1
    grad_clip: float = 1.0

    def validate(self) -> None:
        assert self.input in ("token", "ngram", "hierarchical", "hashed"), self.input
        assert self.positions in ("learned", "rotary"), self.positions
        assert self.d_model % self.heads == 0
        if self.positions == "rotary":
            assert (self.d_model // self.heads) % 2 == 0, "rotary needs an even head dim"
        if self.input == "token":
            assert self.n == 1
        else:
            assert self.n >= 2
        if self.input == "hashed":
            assert self.hash_rows > 0 and self.hash_slices > 0 and self.d_model % self.hash_slices == 0
        assert self.mtp_depth >= 1 and len(self.mtp_weights) == self.mtp_depth and self.mtp_weights[0] == 1.0


# ----------------------------------------------------------------------------------------------------------------
# n-gram ids


def ngram_ids(x: torch.Tensor, k: int, vocab: int) -> torch.Tensor:
    """Padded n-gram id of order k at every position: id_k(t) = sum_{j<k} d(t-j) (V+1)^j,
    d(p) = x[p] + 1 for p >= 0 and 0 (padding) before the window start. x: [B, T] int64 -> [B, T] int64."""
    T = x.shape[1]
    d = F.pad(x + 1, (k - 1, 0))  # d[:, p + k - 1] = digit of position p
    ids = torch.zeros_like(x)
    for j in range(k):
        ids = ids + d[:, k - 1 - j : k - 1 - j + T] * (vocab + 1) ** j
    return ids


def ngram_ids_naive(x: torch.Tensor, k: int, vocab: int) -> torch.Tensor:
    """Loop version of ngram_ids, for the self-test."""
    B, T = x.shape
    out = torch.zeros_like(x)
    for b in range(B):
        for t in range(T):
            v = 0
            for j in range(k):
                p = t - j
                digit = int(x[b, p]) + 1 if p >= 0 else 0
                v += digit * (vocab + 1) ** j
            out[b, t] = v
    return out


# ----------------------------------------------------------------------------------------------------------------
# Input embeddings (one class each). Their parameter names, with the "embed." prefix removed, are canonical.


class TokenEmbedding(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.wte = nn.Parameter(torch.empty(cfg.vocab, cfg.d_model))

    def forward(self, x):
        return self.wte[x]


class NgramEmbedding(nn.Module):
    """Exact n-gram input: one table of (V+1)^n rows, only the order-n id."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.vocab, self.n = cfg.vocab, cfg.n
        self.ngram = nn.ParameterDict({str(cfg.n): nn.Parameter(torch.empty((cfg.vocab + 1) ** cfg.n, cfg.d_model))})

    def forward(self, x):
        return self.ngram[str(self.n)][ngram_ids(x, self.n, self.vocab)]


class HierarchicalEmbedding(nn.Module):
    """wte[x] + sum_{k=2..n} ngram_k[id_k] (plain sum)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.vocab, self.n = cfg.vocab, cfg.n
        self.wte = nn.Parameter(torch.empty(cfg.vocab, cfg.d_model))
        self.ngram = nn.ParameterDict(
            {str(k): nn.Parameter(torch.empty((cfg.vocab + 1) ** k, cfg.d_model)) for k in range(2, cfg.n + 1)}
        )

    def forward(self, x):
        e = self.wte[x]
        for k in range(2, self.n + 1):
            e = e + self.ngram[str(k)][ngram_ids(x, k, self.vocab)]
        return e


class OESlice(nn.Module):
    """One Over-Encoding slice table (rows m_{k,s}, width D/S) and its projection back to D (no bias)."""

    def __init__(self, rows: int, width: int, d_model: int):
        super().__init__()
        self.rows = rows
        self.table = nn.Parameter(torch.empty(rows, width))
        self.proj = nn.Parameter(torch.empty(d_model, width))  # a Linear(D/S -> D) weight

    def forward(self, ids):
        return F.linear(self.table[ids % self.rows], self.proj)


class HashedEmbedding(nn.Module):
    """Over-Encoding: (wte[x] + sum_{k=2..n} sum_{s<S} proj_{k,s}(table_{k,s}[id_k mod m_{k,s}])) / (1 + S(n-1)),
    m_{k,s} = m + 2 i with i = (k-2) S + s."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.vocab, self.n, self.S = cfg.vocab, cfg.n, cfg.hash_slices
        self.wte = nn.Parameter(torch.empty(cfg.vocab, cfg.d_model))
        self.oe = nn.ModuleDict()
        for k in range(2, cfg.n + 1):
            slices = nn.ModuleDict()
            for s in range(cfg.hash_slices):
                i = (k - 2) * cfg.hash_slices + s
                slices[str(s)] = OESlice(cfg.hash_rows + 2 * i, cfg.d_model // cfg.hash_slices, cfg.d_model)
            self.oe[str(k)] = slices

    def forward(self, x):
        e = self.wte[x]
        for k in range(2, self.n + 1):
            ids = ngram_ids(x, k, self.vocab)
            for s in range(self.S):
                e = e + self.oe[str(k)][str(s)](ids)
        return e / (1 + self.S * (self.n - 1))


EMBEDDINGS = {
    "token": TokenEmbedding,
    "ngram": NgramEmbedding,
    "hierarchical": HierarchicalEmbedding,
    "hashed": HashedEmbedding,
}


# ----------------------------------------------------------------------------------------------------------------
# Transformer


def rotary_cos_sin(T: int, hd: int, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape [T, hd]: angle(t, i) = t * 10000^(-2i/hd), the hd/2 angles concatenated twice.
    Built in float64, then cast."""
    inv_freq = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)  # [hd/2], = 10000^(-2i/hd)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]  # [T, hd/2]
    ang = torch.cat([ang, ang], dim=-1)  # [T, hd]
    return ang.cos().to(dtype), ang.sin().to(dtype)


def rotate_half(q: torch.Tensor) -> torch.Tensor:
    h = q.shape[-1] // 2
    return torch.cat([-q[..., h:], q[..., :h]], dim=-1)


class CausalSelfAttention(nn.Module):
    use_sdpa = False  # True: F.scaled_dot_product_attention (bench/torch_reference.py --attention sdpa)

    def __init__(self, cfg: Config):
        super().__init__()
        self.H, self.D, self.rotary = cfg.heads, cfg.d_model, cfg.positions == "rotary"
        self.c_attn = nn.Linear(cfg.d_model, 3 * cfg.d_model)  # weight [3D, D]: rows q, then k, then v
        self.c_proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x):
        B, T, D = x.shape
        H, hd = self.H, D // self.H
        q, k, v = self.c_attn(x).split(D, dim=2)
        q = q.view(B, T, H, hd).transpose(1, 2)  # [B, H, T, hd]; head h = features h*hd ..< (h+1)*hd
        k = k.view(B, T, H, hd).transpose(1, 2)
        v = v.view(B, T, H, hd).transpose(1, 2)
        if self.rotary:
            cos, sin = rotary_cos_sin(T, hd, x.dtype)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        if CausalSelfAttention.use_sdpa:  # fused kernel, same math (the benchmark's default; see --check)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # written out: the reference path for the fixtures
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            att = att.masked_fill(~mask, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).reshape(B, T, D)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.c_fc = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.c_proj = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model, eps=1e-5)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.d_model, eps=1e-5)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class MTPLayer(nn.Module):
    """Head j >= 2: h_j[t] = proj(cat(ln_h(h_{j-1}[t]), ln_e(mtp.wte[x[t+j-1]])))."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.ln_h = nn.LayerNorm(cfg.d_model, eps=1e-5)
        self.ln_e = nn.LayerNorm(cfg.d_model, eps=1e-5)
        self.proj = nn.Linear(2 * cfg.d_model, cfg.d_model, bias=False)  # weight [D, 2D]: h part, then e part

    def forward(self, h_prev, e):
        return self.proj(torch.cat([self.ln_h(h_prev), self.ln_e(e)], dim=-1))


class MTP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.wte = nn.Parameter(torch.empty(cfg.vocab, cfg.d_model))
        for j in range(2, cfg.mtp_depth + 1):
            self.add_module(str(j), MTPLayer(cfg))  # named mtp.{j}.*

    def layer(self, j: int) -> MTPLayer:
        return getattr(self, str(j))


class GPT(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.embed = EMBEDDINGS[cfg.input](cfg)
        if cfg.positions == "learned":
            self.wpe = nn.Parameter(torch.empty(cfg.seq, cfg.d_model))
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=1e-5)
        self.lm_head = nn.Linear(cfg.d_model, cfg.classes, bias=False)
        if cfg.mtp_depth > 1:
            self.mtp = MTP(cfg)

    def canonical_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """(canonical name, parameter) in the canonical (arena) order. The canonical name is PyTorch's name
        without the "embed." prefix; the order is the spec's (canonical_shapes), checked to cover every
        parameter with the right shape (PyTorch itself lists `wpe`, a direct parameter, before `embed`)."""
        named = {(n[len("embed.") :] if n.startswith("embed.") else n): p for n, p in self.named_parameters()}
        spec = canonical_shapes(self.cfg)
        assert sorted(named) == sorted(n for n, _ in spec), "parameter names differ from the spec"
        for n, shape in spec:
            assert list(named[n].shape) == shape, f"{n}: shape {list(named[n].shape)} != spec {shape}"
        return [(n, named[n]) for n, _ in spec]

    def forward(self, x, targets=None):
        """Returns (logits of the main head [B, T, C], total loss or None)."""
        cfg = self.cfg
        B, T = x.shape
        h = self.embed(x)
        if cfg.positions == "learned":
            h = h + self.wpe[:T]
        for block in self.h:
            h = block(h)
        logits = self.lm_head(self.ln_f(h))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        hj = h  # h_1 = x_L, before ln_f
        for j in range(2, cfg.mtp_depth + 1):
            Tj = T - (j - 1)  # positions t = 0 ..< T-j+1 have a token x[t+j-1] and a target y[t+j-1]
            e = self.mtp.wte[x[:, j - 1 :]]  # [B, Tj, D]
            hj = self.mtp.layer(j)(hj[:, :Tj], e)
            lj = self.lm_head(self.ln_f(hj))
            yj = targets[:, j - 1 :]
            loss = loss + cfg.mtp_weights[j - 1] * F.cross_entropy(
                lj.reshape(-1, lj.size(-1)), yj.reshape(-1), ignore_index=-1
            )
        return logits, loss


def canonical_shapes(cfg: Config) -> list[tuple[str, list[int]]]:
    """The spec's parameter list, written out independently of the modules (used to check them)."""
    V, C, D, L = cfg.vocab, cfg.classes, cfg.d_model, cfg.layers
    out = []
    if cfg.input in ("token", "hierarchical", "hashed"):
        out.append(("wte", [V, D]))
    if cfg.input == "ngram":
        out.append((f"ngram.{cfg.n}", [(V + 1) ** cfg.n, D]))
    if cfg.input == "hierarchical":
        out += [(f"ngram.{k}", [(V + 1) ** k, D]) for k in range(2, cfg.n + 1)]
    if cfg.input == "hashed":
        S = cfg.hash_slices
        for k in range(2, cfg.n + 1):
            for s in range(S):
                i = (k - 2) * S + s
                out.append((f"oe.{k}.{s}.table", [cfg.hash_rows + 2 * i, D // S]))
                out.append((f"oe.{k}.{s}.proj", [D, D // S]))
    if cfg.positions == "learned":
        out.append(("wpe", [cfg.seq, D]))
    for l in range(L):
        p = f"h.{l}."
        out += [
            (p + "ln_1.weight", [D]), (p + "ln_1.bias", [D]),
            (p + "attn.c_attn.weight", [3 * D, D]), (p + "attn.c_attn.bias", [3 * D]),
            (p + "attn.c_proj.weight", [D, D]), (p + "attn.c_proj.bias", [D]),
            (p + "ln_2.weight", [D]), (p + "ln_2.bias", [D]),
            (p + "mlp.c_fc.weight", [4 * D, D]), (p + "mlp.c_fc.bias", [4 * D]),
            (p + "mlp.c_proj.weight", [D, 4 * D]), (p + "mlp.c_proj.bias", [D]),
        ]
    out += [("ln_f.weight", [D]), ("ln_f.bias", [D]), ("lm_head.weight", [C, D])]
    if cfg.mtp_depth > 1:
        out.append(("mtp.wte", [V, D]))
        for j in range(2, cfg.mtp_depth + 1):
            p = f"mtp.{j}."
            out += [(p + "ln_h.weight", [D]), (p + "ln_h.bias", [D]),
                    (p + "ln_e.weight", [D]), (p + "ln_e.bias", [D]), (p + "proj.weight", [D, 2 * D])]
    return out


def is_layernorm(name: str) -> bool:
    return ".ln_" in name or name.startswith("ln_")


def init_gpt2(model: GPT, perturb: float = 0.0) -> None:
    """GPT-2 init, in canonical order from the current torch RNG state: matrices and tables N(0, 0.02), the
    residual projections N(0, 0.02/sqrt(2L)), biases 0, LayerNorm weight 1 / bias 0. With perturb > 0, then add
    N(0, perturb) to every LayerNorm parameter and every bias (a second pass, again in canonical order)."""
    L = model.cfg.layers
    with torch.no_grad():
        for name, p in model.canonical_parameters():
            if is_layernorm(name):
                p.fill_(1.0 if name.endswith(".weight") else 0.0)
            elif name.endswith(".bias"):
                p.zero_()
            elif name.endswith("attn.c_proj.weight") or name.endswith("mlp.c_proj.weight"):
                p.normal_(0.0, 0.02 / math.sqrt(2 * L))
            else:
                p.normal_(0.0, 0.02)
        if perturb > 0:
            for name, p in model.canonical_parameters():
                if is_layernorm(name) or name.endswith(".bias"):
                    p.add_(torch.randn_like(p) * perturb)


def make_optimizer(model: GPT) -> torch.optim.AdamW:
    cfg = model.cfg
    params = [p for _, p in model.canonical_parameters()]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, foreach=False,
    )


def train_steps(model: GPT, x, y, steps: int):
    """steps x (forward, backward, clip, AdamW step) on one batch. Returns (step_losses, pre-clip grad norms)."""
    opt = make_optimizer(model)
    params = [p for _, p in model.canonical_parameters()]
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, model.cfg.grad_clip)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
    return losses, norms


def manual_train_steps(model: GPT, x, y, steps: int):
    """The same as train_steps with clipping and AdamW written out (the formulas the README documents)."""
    cfg = model.cfg
    b1, b2 = cfg.betas
    params = [p for _, p in model.canonical_parameters()]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    losses = []
    for step in range(1, steps + 1):
        for p in params:
            p.grad = None
        _, loss = model(x, y)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            total = torch.sqrt(sum((p.grad**2).sum() for p in params))
            coef = min(1.0, cfg.grad_clip / (total.item() + 1e-6))
            for i, p in enumerate(params):
                g = p.grad * coef
                wd = cfg.weight_decay if p.dim() >= 2 else 0.0
                p.mul_(1 - cfg.lr * wd)
                m[i].mul_(b1).add_(g, alpha=1 - b1)
                v[i].mul_(b2).addcmul_(g, g, value=1 - b2)
                bc1, bc2 = 1 - b1**step, 1 - b2**step
                denom = v[i].sqrt() / math.sqrt(bc2) + cfg.eps
                p.addcdiv_(m[i], denom, value=-cfg.lr / bc1)
    return losses


# ----------------------------------------------------------------------------------------------------------------
# Fixtures

BASE = Config()
VARIANTS = {
    "token": BASE,
    "ngram3": replace(BASE, input="ngram", n=3),
    "hier3": replace(BASE, input="hierarchical", n=3),
    "hashed3": replace(BASE, input="hashed", n=3, hash_rows=29, hash_slices=2),
    "joint": replace(BASE, classes=5 + 25 + 125),
    "mtp3": replace(BASE, mtp_depth=3, mtp_weights=[1.0, 0.5, 0.25]),
    # The 3gram-mtp design's model: token input, heads 2 and 3 with the paper's MTP-DS weight 0.1.
    "mtp3-design": replace(BASE, mtp_depth=3, mtp_weights=[1.0, 0.1, 0.1]),
    "rotary": replace(BASE, positions="rotary"),
    "hier3-d64": replace(BASE, input="hierarchical", n=3, d_model=64, heads=4),
}


def make_batch(cfg: Config, gen: torch.Generator):
    """Random tokens in [0, V), targets in [0, C) with 3 entries set to -1 (ignored)."""
    x = torch.randint(0, cfg.vocab, (cfg.batch, cfg.seq), generator=gen)
    y = torch.randint(0, cfg.classes, (cfg.batch, cfg.seq), generator=gen)
    flat = y.view(-1)
    flat[torch.randperm(flat.numel(), generator=gen)[:3]] = -1
    return x, y


def build_reference(cfg: Config, seed: int):
    """Returns (model_f32 with the initial weights, x, y). Deterministic in seed."""
    torch.manual_seed(seed)
    model = GPT(cfg)
    init_gpt2(model, perturb=0.1)
    gen = torch.Generator().manual_seed(seed + 1)
    x, y = make_batch(cfg, gen)
    return model, x, y


def compute(model_f32: GPT, x, y, dtype=torch.float64, steps=N_STEPS):
    """Everything a fixture stores, computed in `dtype` from the float32 initial weights."""
    import copy

    model = copy.deepcopy(model_f32).to(dtype)
    logits, loss = model(x, y)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.canonical_parameters()}
    for _, p in model.canonical_parameters():
        p.grad = None
    step_losses, norms = train_steps(model, x, y, steps)
    final = {n: p.detach().clone() for n, p in model.canonical_parameters()}
    return {
        "logits": logits.detach(), "loss": loss.item(), "grads": grads, "final": final,
        "step_losses": step_losses, "grad_norms": norms,
    }


def write_fixture(path: str, cfg: Config, seed: int) -> dict:
    model, x, y = build_reference(cfg, seed)
    names = [(n, list(p.shape)) for n, p in model.canonical_parameters()]
    assert names == canonical_shapes(cfg), "module parameter order differs from the spec"
    r = compute(model, x, y)
    assert r["step_losses"][0] == r["loss"]

    tensors: list[tuple[str, str, torch.Tensor]] = [("inputs", "i32", x), ("targets", "i32", y)]
    tensors += [(n, "f32", p.detach()) for n, p in model.canonical_parameters()]
    tensors.append(("logits", "f32", r["logits"]))
    tensors += [("grad." + n, "f32", g) for n, g in r["grads"].items()]
    tensors += [("final." + n, "f32", p) for n, p in r["final"].items()]

    entries, blobs, offset = [], [], 0
    for name, dt, t in tensors:
        t = t.to(torch.int32 if dt == "i32" else torch.float32).contiguous()
        data = t.numpy().astype("<i4" if dt == "i32" else "<f4").tobytes()
        entries.append({"name": name, "dtype": dt, "shape": list(t.shape), "offset": offset})
        blobs.append(data)
        offset += len(data)

    header = {
        "config": asdict(cfg),
        "tensors": entries,
        "loss": r["loss"],
        "step_losses": r["step_losses"],
        "grad_norms": r["grad_norms"],
        "seed": seed,
        "torch_version": torch.__version__,
    }
    hbytes = json.dumps(header, indent=None, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-(12 + len(hbytes))) % 16)  # pad with spaces: the data section starts 16-byte aligned
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<II", VERSION, len(hbytes)) + hbytes + b"".join(blobs))
    return {"path": path, "bytes": 12 + len(hbytes) + offset, "loss": r["loss"], "norms": r["grad_norms"]}


def read_fixture(path: str):
    """Returns (header dict, {name: tensor}), with the format checked."""
    with open(path, "rb") as f:
        raw = f.read()
    assert raw[:4] == MAGIC, "bad magic"
    version, hlen = struct.unpack("<II", raw[4:12])
    assert version == VERSION, f"version {version}"
    header = json.loads(raw[12 : 12 + hlen].decode("utf-8"))
    data = raw[12 + hlen :]
    tensors, end = {}, 0
    for e in sorted(header["tensors"], key=lambda e: e["offset"]):
        count = math.prod(e["shape"])
        assert e["offset"] == end, f"{e['name']}: gap or overlap at {e['offset']}"
        end = e["offset"] + 4 * count
        assert end <= len(data), f"{e['name']}: out of bounds"
        np_dtype = "<i4" if e["dtype"] == "i32" else "<f4"
        import numpy as np

        arr = np.frombuffer(data, dtype=np_dtype, count=count, offset=e["offset"]).reshape(e["shape"])
        tensors[e["name"]] = torch.from_numpy(arr.copy())
    assert end == len(data), "trailing bytes after the last tensor"
    return header, tensors


def stored_ok(stored: torch.Tensor, exact: torch.Tensor) -> bool:
    """A stored float32 tensor is the rounding of the float64 value: every element within 0.75 ulp of it (0.5
    for the rounding, 0.25 slack for float64 differences between torch builds), plus 1e-12 of the tensor's
    largest magnitude for values that are zero in exact arithmetic (rounding noise)."""
    s, e = stored.double(), exact.double()
    tol = 0.75 * 2.0**-23 * e.abs() + 1e-12 * e.abs().max() + 1e-40
    return bool(((s - e).abs() <= tol).all())


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    scale = max(b.abs().max().item(), 1e-12)
    return (a - b).abs().max().item() / scale


def check_fixture(path: str, verbose: bool = True) -> bool:
    """Re-read a fixture and verify it: the format, the parameter list against the spec, and every stored value
    recomputed from the stored initial weights (float64 autograd + torch AdamW). Also independent checks: the
    loop n-gram ids, attention against F.scaled_dot_product_attention, the written-out clip + AdamW against
    torch's, and float32 against float64."""
    header, T = read_fixture(path)
    cfg = Config(**header["config"])
    ok = True
    notes = []

    def expect(cond, msg):
        nonlocal ok
        if not cond:
            ok = False
            notes.append("FAIL " + msg)

    model = GPT(cfg)
    names = [(n, list(p.shape)) for n, p in model.canonical_parameters()]
    expect(names == canonical_shapes(cfg), "parameter list differs from the spec")
    stored_params = [e["name"] for e in header["tensors"] if not e["name"].startswith(("grad.", "final."))
                     and e["name"] not in ("inputs", "targets", "logits")]
    expect(stored_params == [n for n, _ in names], "stored parameter order differs from the canonical order")
    for e in header["tensors"]:
        if e["name"].startswith(("grad.", "final.")):
            base = e["name"].split(".", 1)[1]
            expect(base in dict(names), f"unknown tensor {e['name']}")
    with torch.no_grad():
        for n, p in model.canonical_parameters():
            p.copy_(T[n])
    x, y = T["inputs"].long(), T["targets"].long()
    expect(bool(((x >= 0) & (x < cfg.vocab)).all()), "inputs out of range")
    expect(bool(((y >= -1) & (y < cfg.classes)).all()), "targets out of range")
    expect(list(T["logits"].shape) == [cfg.batch, cfg.seq, cfg.classes], "logits shape")

    r = compute(model, x, y)
    tol = 2e-6  # stored float32 vs recomputed float64 (relative to the tensor's max magnitude)
    errs = {"logits": rel_err(T["logits"], r["logits"])}
    errs["grad"] = max(rel_err(T["grad." + n], g) for n, g in r["grads"].items())
    errs["final"] = max(rel_err(T["final." + n], p) for n, p in r["final"].items())
    for k, v in errs.items():
        expect(v < tol, f"{k} rel err {v:.2e}")
    expect(stored_ok(T["logits"], r["logits"]), "logits: not the float32 rounding of the recomputed values")
    for n, g in r["grads"].items():
        expect(stored_ok(T["grad." + n], g), f"grad.{n}: not the float32 rounding of the recomputed values")
    for n, p in r["final"].items():
        expect(stored_ok(T["final." + n], p), f"final.{n}: not the float32 rounding of the recomputed values")
    expect(abs(header["loss"] - r["loss"]) < 1e-12 * max(1, abs(r["loss"])), "loss")
    sl = max(abs(a - b) for a, b in zip(header["step_losses"], r["step_losses"]))
    expect(len(header["step_losses"]) == N_STEPS and sl < 1e-12, f"step_losses differ by {sl:.2e}")
    expect(header["step_losses"][0] == header["loss"], "step_losses[0] != loss")

    # Independent checks.
    for k in range(2, max(cfg.n, 3) + 1):
        expect(torch.equal(ngram_ids(x, k, cfg.vocab), ngram_ids_naive(x, k, cfg.vocab)), f"ngram ids k={k}")
    import copy

    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        blk = m64.h[0]
        a = blk.ln_1(torch.randn(cfg.batch, cfg.seq, cfg.d_model, dtype=torch.float64))
        D, H = cfg.d_model, cfg.heads
        q, k_, v = blk.attn.c_attn(a).split(D, dim=2)
        q, k_, v = (t.view(cfg.batch, cfg.seq, H, D // H).transpose(1, 2) for t in (q, k_, v))
        if cfg.positions == "rotary":
            cos, sin = rotary_cos_sin(cfg.seq, D // H, torch.float64)
            # complex-number form of the same rotation: pairs (i, i + hd/2) rotated by angle(t, i)
            hd = D // H
            zq = torch.complex(q[..., : hd // 2], q[..., hd // 2 :])
            zk = torch.complex(k_[..., : hd // 2], k_[..., hd // 2 :])
            rot = torch.polar(torch.ones_like(cos[:, : hd // 2]), torch.atan2(sin[:, : hd // 2], cos[:, : hd // 2]))
            zq, zk = zq * rot, zk * rot
            q = torch.cat([zq.real, zq.imag], -1)
            k_ = torch.cat([zk.real, zk.imag], -1)
        yref = F.scaled_dot_product_attention(q, k_, v, is_causal=True).transpose(1, 2).reshape(cfg.batch, cfg.seq, D)
        yref = blk.attn.c_proj(yref)
        expect(rel_err(blk.attn(a), yref) < 1e-12, "attention vs scaled_dot_product_attention")
    m_man = copy.deepcopy(model).double()
    man_losses = manual_train_steps(m_man, x, y, N_STEPS)
    d_man = max(rel_err(p, r["final"][n]) for n, p in m_man.canonical_parameters())
    expect(d_man < 1e-12, f"written-out AdamW vs torch AdamW rel err {d_man:.2e}")
    expect(max(abs(a - b) for a, b in zip(man_losses, r["step_losses"])) < 1e-12, "written-out AdamW losses")
    r32 = compute(model, x, y, dtype=torch.float32)
    e32 = {
        "logits": rel_err(r32["logits"], r["logits"]),
        "grad": max(rel_err(r32["grads"][n], g) for n, g in r["grads"].items()),
        "final": max(rel_err(r32["final"][n], p) for n, p in r["final"].items()),
        "loss": max(abs(a - b) for a, b in zip(r32["step_losses"], r["step_losses"])),
    }
    expect(e32["logits"] < 1e-5 and e32["grad"] < 1e-3 and e32["loss"] < 1e-5, f"float32 vs float64 {e32}")

    if verbose:
        status = "ok  " if ok else "FAIL"
        clipped = sum(nm > cfg.grad_clip for nm in header.get("grad_norms", []))
        print(f"{status} {os.path.basename(path)}: loss {header['loss']:.6f} -> {header['step_losses'][-1]:.6f}; "
              f"stored-vs-recomputed rel err logits {errs['logits']:.1e} grad {errs['grad']:.1e} "
              f"final {errs['final']:.1e}; f32-vs-f64 logits {e32['logits']:.1e} grad {e32['grad']:.1e} "
              f"final {e32['final']:.1e} loss {e32['loss']:.1e}; steps clipped {clipped}/{N_STEPS}")
        for n in notes:
            print("    " + n)
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", choices=["fixtures"], help="write the fixtures")
    ap.add_argument("--out", default="Tests/ModelTests/Fixtures", help="output folder for `fixtures`")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of: " + ",".join(VARIANTS))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--check", metavar="PATH", help="verify a fixture file, or every .cfgt file in a folder")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.check:
        paths = ([os.path.join(args.check, f) for f in sorted(os.listdir(args.check)) if f.endswith(".cfgt")]
                 if os.path.isdir(args.check) else [args.check])
        if not paths:
            print("no .cfgt files in " + args.check)
            return 1
        results = [check_fixture(p) for p in paths]
        return 0 if all(results) else 1
    if args.command == "fixtures":
        os.makedirs(args.out, exist_ok=True)
        for name in args.variants.split(","):
            info = write_fixture(os.path.join(args.out, name + ".cfgt"), VARIANTS[name], args.seed)
            print(f"wrote {info['path']} ({info['bytes']} bytes), loss {info['loss']:.6f}, "
                  f"grad norms {info['norms'][0]:.3f} .. {info['norms'][-1]:.3f}")
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
