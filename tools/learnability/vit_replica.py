"""Independent PyTorch replica of the quick pretraining, to check how learnable fashion-objects is.

    dotnet fsi tools/learnability/dump_fashion_objects.fsx /tmp/fo
    /usr/bin/python3 tools/learnability/vit_replica.py /tmp/fo cls|mean|cnn STEPS LR

A ViT of vit_tiny_scenes64's shape (D 96, depth 4, 3 heads, patch 8; class-token or mean pooling) or a 3-layer CNN,
AdamW (wd 0.05), linear warmup over a tenth of the steps then cosine to 1e-5, batch 32 drawn in order, label smoothing
0.1, ImageNet normalisation; prints top-1 on the first 1,000 test images. Not the C# trainer: a second opinion on the
data, with PyTorch's own layers and init.
"""
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

if len(sys.argv) != 5 or sys.argv[2] not in ("cls", "mean", "cnn"):
    sys.exit(__doc__)
data, kind, steps, lr = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
torch.manual_seed(0)
torch.set_num_threads(2)


def load(split, limit=None):
    x = np.fromfile(f"{data}/{split}_x.bin", np.uint8).reshape(-1, 64, 64, 3)
    y = np.fromfile(f"{data}/{split}_y.bin", np.uint8).astype(np.int64)
    return x[:limit], y[:limit]


x, y = load("train")
xt, yt = load("test", 1000)
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def prep(a):
    return (torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255 - MEAN) / STD


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        h = self.n1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.n2(x))


class ViT(nn.Module):
    def __init__(self, pool, d=96, depth=4, patch=8):
        super().__init__()
        self.pool = pool
        self.embed = nn.Conv2d(3, d, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, (64 // patch) ** 2 + 1, d) * 0.02)
        self.blocks = nn.Sequential(*[Block(d, 3) for _ in range(depth)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 10)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(len(x), -1, -1), x], 1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0] if self.pool == "cls" else x[:, 1:].mean(1))


if kind == "cnn":
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(64, 96, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(96, 10))
else:
    model = ViT(kind)
opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
warm, batch = max(1, steps // 10), 32
start = time.time()
for step in range(steps):
    if step < warm:
        rate = lr * (step + 1) / warm
    else:
        rate = 1e-5 + (lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
    for g in opt.param_groups:
        g["lr"] = rate
    idx = np.arange(step * batch, (step + 1) * batch) % len(x)
    loss = F.cross_entropy(model(prep(x[idx])), torch.from_numpy(y[idx]), label_smoothing=0.1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % max(1, steps // 10) == 0:
        print(step, round(loss.item(), 3), flush=True)
model.eval()
with torch.no_grad():
    top1 = (model(prep(xt)).argmax(1).numpy() == yt).mean()
print(f"{kind} steps {steps} lr {lr}: top-1 {100 * top1:.1f} % on 1,000 test images ({time.time() - start:.0f} s)")
