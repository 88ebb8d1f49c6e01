#!/usr/bin/python3
"""PyTorch baseline of bench/Reproduce.Bench (run by it; Debian /usr/bin/python3 with python3-torch).

Trains the same ViT as the C# side -- plain PyTorch written after timm's
VisionTransformer (pre-norm blocks, fused qkv, timm's explicit attention math,
exact GELU, LayerNorm eps 1e-6, class-token pooling) with identical shapes and
ops -- on one fixed synthetic batch, in the idiomatic loop:

    model.train(); out = model(x); loss = F.cross_entropy(out, y)
    loss.backward(); opt.step(); opt.zero_grad()     # torch.optim.AdamW, defaults

Modes:
  --steps N     run N timed steps after the warmup, print
                RESULT {"img_per_s", "step_s": [...], "last_loss", "user_s"/"sys_s"/"minflt" per step}
  --serve       (used by Reproduce.Bench) after the warmup print READY {...}, then run one timed step per
                "step" line on stdin, answering STEP {"seconds", "loss", "user_s", "sys_s", "minflt", "peak_bytes"};
                "quit" or end of input exits. This lets the C# side interleave its steps with these.
  --overhead N  time N tiny ops (per-op dispatch cost): RESULT {"add_us", "linear_us"}
  --dump DIR    write the initial state dict, the batch (x, y) and, after --steps training steps, each
                step's loss and the final state dict to DIR (manifest.json + float32/int64 blobs), for
                Reproduce.Bench --verify

    /usr/bin/python3 bench/pytorch_bench.py --model vit192 --threads 2 --warmup 1 --steps 3
"""
import argparse
import ctypes
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# name: (img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, batch) -- as BenchModel.cs
MODELS = {
    'vit192': (28, 4, 1, 10, 192, 6, 3, 4.0, 128),
    'vit_s16': (224, 16, 3, 1000, 384, 12, 6, 4.0, 16),
    'vit_b16': (224, 16, 3, 1000, 768, 12, 12, 4.0, 8),
    'lvvit_s': (224, 16, 3, 1000, 384, 16, 6, 3.0, 8),
}
# LV-ViT (TokenLabeling's lvvit.py): conv stem with 64 channels, no qkv bias, LayerNorm eps 1e-5, x + branch / skip_lam,
# cls_token std .02; here with the class-token head only (no aux head, no MixToken), as BenchModel.cs.
LVVIT = {'lvvit_s': dict(stem=64, qkv_bias=False, eps=1e-5, skip_lam=2.0, cls_std=.02)}


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias=True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
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
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias=True, eps=1e-6, skip_lam=1.0):
        super().__init__()
        self.skip_lam = skip_lam
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        if self.skip_lam == 1.0:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = x + self.attn(self.norm1(x)) / self.skip_lam
        return x + self.mlp(self.norm2(x)) / self.skip_lam


class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class ConvStem(nn.Module):
    """LV-ViT's PatchEmbed4_2: 7x7/2 conv, two 3x3 convs (each BatchNorm + ReLU), then a patch/2 projection."""

    def __init__(self, patch, in_chans, dim, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_chans, channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)
        self.proj = nn.Conv2d(channels, dim, patch // 2, stride=patch // 2)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, stem=0, qkv_bias=True, eps=1e-6,
                 skip_lam=1.0, cls_std=1e-6):
        super().__init__()
        self.patch_embed = ConvStem(patch, in_chans, dim, stem) if stem else PatchEmbed(patch, in_chans, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, qkv_bias, eps, skip_lam) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.head = nn.Linear(dim, classes)
        # timm's default init
        nn.init.trunc_normal_(self.pos_embed, std=.02)
        nn.init.normal_(self.cls_token, std=cls_std)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
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


def time_op(n, op):
    for _ in range(min(n, 1000)):
        op()
    t0 = time.perf_counter()
    for _ in range(n):
        op()
    return (time.perf_counter() - t0) / n * 1e6


def overhead(n):
    """Microseconds per aten::add of 1-element tensors and per linear [8,16]x[16,16]^T recording autograd."""
    a, b = torch.ones(1), torch.ones(1)
    x, w = torch.randn(8, 16, requires_grad=True), torch.randn(16, 16, requires_grad=True)
    return {'add_us': time_op(n, lambda: a.add(b)), 'linear_us': time_op(n // 4, lambda: F.linear(x, w))}


def usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def dump_tensors(path, tensors):
    """Raw little-endian blob of the tensors; returns their manifest entries (name, dtype, shape, byte offset)."""
    entries, offset = [], 0
    with open(path, 'wb') as f:
        for name, t in tensors:
            data = t.detach().cpu().contiguous().numpy().tobytes()
            entries.append({'name': name, 'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'offset': offset})
            f.write(data)
            offset += len(data)
    return entries


def make_trainer(name, seed, img_size=None, batch_size=None, device='cpu', bf16=False):
    """The model, AdamW and one batch, built on the CPU (the same random draws on any device), then moved."""
    torch.manual_seed(seed)
    img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, batch = MODELS[name]
    img, batch = img_size or img, batch_size or batch
    model = VisionTransformer(img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, **LVVIT.get(name, {}))
    x = torch.randn(batch, in_chans, img, img)
    y = torch.randint(0, classes, (batch,))
    model, x, y = model.to(device), x.to(device), y.to(device)
    opt = torch.optim.AdamW(model.parameters())
    model.train()
    device_type = torch.device(device).type

    def step():
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
            loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()

    return step, batch, model, x, y


def peak_bytes(device):
    """torch.cuda.max_memory_allocated on a CUDA device; on the CPU this process's peak resident set, VmHWM (ru_maxrss
    would not do: Linux carries it over exec, so it can hold the parent's peak)."""
    if torch.device(device).type == 'cuda':
        return torch.cuda.max_memory_allocated(device)
    with open('/proc/self/status') as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
    return kib * 1024


def timed(step, device='cpu'):
    u0, t0 = usage(), time.perf_counter()
    loss = step()  # loss.item() waits for the device
    seconds, u1 = time.perf_counter() - t0, usage()
    return {'seconds': seconds, 'loss': loss, 'user_s': u1[0] - u0[0], 'sys_s': u1[1] - u0[1], 'minflt': u1[2] - u0[2],
            'peak_bytes': peak_bytes(device)}


def emit(tag, obj):
    print(tag + ' ' + json.dumps(obj), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=sorted(MODELS))
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--img', type=int, help='input size (default: the model\'s)')
    ap.add_argument('--batch', type=int, help='batch size (default: the model\'s)')
    ap.add_argument('--device', default='cpu', help='cpu or cuda[:N] (the GPU kit)')
    ap.add_argument('--bf16', action='store_true', help='forward and loss inside torch.autocast(bfloat16)')
    ap.add_argument('--serve', action='store_true', help='run one timed step per "step" line on stdin')
    ap.add_argument('--overhead', type=int, default=0, help='time this many tiny ops instead of training')
    ap.add_argument('--dump', help='directory for the initial/final weights, batch and losses (for --verify)')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_blas_threads(args.threads)
    if args.overhead:
        emit('RESULT', overhead(args.overhead))
        return
    if args.model is None:
        ap.error('--model is required unless --overhead is given')
    step, batch, model, x, y = make_trainer(args.model, args.seed, args.img, args.batch, args.device, args.bf16)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        initial = dump_tensors(os.path.join(args.dump, 'initial.bin'), [('x', x), ('y', y)] + list(model.state_dict().items()))
        losses = [step() for _ in range(args.steps)]
        final = dump_tensors(os.path.join(args.dump, 'final.bin'), list(model.state_dict().items()))
        with open(os.path.join(args.dump, 'manifest.json'), 'w') as f:
            json.dump({'initial': initial, 'final': final, 'losses': losses}, f)
        emit('RESULT', {'losses': losses})
        return
    for _ in range(args.warmup):
        step()

    if args.serve:
        emit('READY', {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': batch})
        for line in sys.stdin:
            if line.strip() != 'step':
                break
            emit('STEP', timed(step, args.device))
        return

    results = [timed(step, args.device) for _ in range(args.steps)]
    total = sum(r['seconds'] for r in results)
    emit('RESULT', {'img_per_s': batch * args.steps / total, 'step_s': [r['seconds'] for r in results],
                    'last_loss': results[-1]['loss'], 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                    **{k: sum(r[k] for r in results) / args.steps for k in ('user_s', 'sys_s', 'minflt')}})


if __name__ == '__main__':
    main()
