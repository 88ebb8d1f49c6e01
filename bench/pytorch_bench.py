#!/usr/bin/python3
"""PyTorch baseline of bench/Reproduce.Bench (run by it; Debian /usr/bin/python3 with python3-torch).

Trains the same ViT as the C# side -- plain PyTorch written after timm's
VisionTransformer (pre-norm blocks, fused qkv, timm's explicit attention math,
exact GELU, LayerNorm eps 1e-6, class-token pooling) with identical shapes and
ops -- on one fixed synthetic batch, in the idiomatic loop:

    model.train(); out = model(x); loss = F.cross_entropy(out, y)
    loss.backward(); opt.step(); opt.zero_grad()     # torch.optim.AdamW, defaults

Prints one line: RESULT {"img_per_s": ..., "step_s": [...], "last_loss": ...}.

    /usr/bin/python3 bench/pytorch_bench.py --model vit192 --threads 2 --warmup 1 --steps 3
"""
import argparse
import ctypes
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# name: (img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, batch) -- as BenchModel.cs
MODELS = {
    'vit192': (28, 4, 1, 10, 192, 6, 3, 4.0, 128),
    'vit_s16': (224, 16, 3, 1000, 384, 12, 6, 4.0, 16),
}


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img, patch, in_chans, classes, dim, depth, heads, mlp_ratio):
        super().__init__()
        self.patch_embed = PatchEmbed(patch, in_chans, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        # timm's default init
        nn.init.trunc_normal_(self.pos_embed, std=.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        x = self.blocks(x)
        x = self.norm(x)
        return self.head(x[:, 0])


def set_blas_threads(n):
    """OpenBLAS keeps its own pool (torch.set_num_threads does not reach it); both sides pin it alike."""
    try:
        ctypes.CDLL('libopenblas.so.0').openblas_set_num_threads(n)
        return True
    except (OSError, AttributeError):
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, choices=sorted(MODELS))
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_blas_threads(args.threads)
    torch.manual_seed(args.seed)
    img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, batch = MODELS[args.model]
    model = VisionTransformer(img, patch, in_chans, classes, dim, depth, heads, mlp_ratio)
    opt = torch.optim.AdamW(model.parameters())
    x = torch.randn(batch, in_chans, img, img)
    y = torch.randint(0, classes, (batch,))
    model.train()

    def step():
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()

    last = math.nan
    for _ in range(args.warmup):
        last = step()
    times = []
    start = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        last = step()
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    print('RESULT ' + json.dumps({'img_per_s': batch * args.steps / total, 'step_s': times, 'last_loss': last,
                                  'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)


if __name__ == '__main__':
    main()
