#!/usr/bin/python3
"""PyTorch side of the GPU kit's op parity check (tools/gpu/Reproduce.GpuKit/OpsParity.cs has the same list).

Draws the inputs on the CPU (torch.manual_seed), then on --device runs each op with autograd, backpropagates
(out * cot).sum() for a fixed random cotangent, and runs 3 steps of AdamW and of SGD (momentum, Nesterov) from fixed
gradients. Writes DIR/manifest.json and DIR/tensors.bin (float32/int64 blobs, as bench/pytorch_bench.py --dump):
  inputs/NAME, OP/out, OP/cot, OP/grad/NAME, OPTIM/final.

    python3 tools/gpu/ops_reference.py --device cuda --out /tmp/ops
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F

INPUTS = {
    'a': [4, 8, 16], 'b': [4, 16, 8], 'w': [12, 16], 'bias': [12], 'img': [2, 3, 8, 8], 'k': [4, 3, 3, 3], 'kb': [4],
    'lnw': [16], 'lnb': [16], 'bnw': [3], 'bnb': [3], 'logits': [6, 10], 'q': [2, 3, 5, 8], 'kk': [2, 3, 5, 8],
    'v': [2, 3, 5, 8], 'p': [16, 12], 'g1': [16, 12], 'g2': [16, 12], 'g3': [16, 12],
}


def attention(q, k, v):
    if hasattr(F, 'scaled_dot_product_attention'):  # PyTorch 2.x: the fused kernels
        return F.scaled_dot_product_attention(q, k, v)
    return ((q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)).softmax(-1) @ v


OPS = {
    'elementwise': (['a'], lambda a: F.gelu(a) * torch.sigmoid(a) + a.tanh() * 0.5),
    'reduce': (['a'], lambda a: a.mean(-1) + a.pow(2).sum(-1) + a.amax(-1)),
    'matmul': (['a', 'b'], lambda a, b: a @ b),
    'linear': (['a', 'w', 'bias'], lambda a, w, bias: F.linear(a, w, bias)),
    'conv2d': (['img', 'k', 'kb'], lambda img, k, kb: F.conv2d(img, k, kb, stride=1, padding=1)),
    'softmax': (['a'], lambda a: a.softmax(-1)),
    'layer_norm': (['a', 'lnw', 'lnb'], lambda a, w, b: F.layer_norm(a, [16], w, b, 1e-6)),
    'batch_norm': (['img', 'bnw', 'bnb'], lambda img, w, b: F.batch_norm(img, None, None, w, b, True, 0.1, 1e-5)),
    'cross_entropy': (['logits', 'target'], lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1)),
    'attention': (['q', 'kk', 'v'], attention),
}

OPTIMS = {
    'adamw': lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.05),
    'sgd': lambda ps: torch.optim.SGD(ps, lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-4),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(args.seed)
    inputs = {n: torch.randn(s) for n, s in INPUTS.items()}
    inputs['target'] = torch.randint(0, 10, (6,))
    tensors = [('inputs/' + n, t) for n, t in inputs.items()]
    for name, (names, fn) in OPS.items():
        # a copy per op, so gradients do not accumulate across ops on a shared input
        xs = [inputs[n].to(args.device).clone().requires_grad_(inputs[n].is_floating_point()) for n in names]
        out = fn(*xs)
        cot = torch.randn(out.shape)
        (out * cot.to(args.device)).sum().backward()
        tensors += [(name + '/out', out), (name + '/cot', cot)]
        tensors += [(name + '/grad/' + n, x.grad) for n, x in zip(names, xs) if x.grad is not None]
    for name, make in OPTIMS.items():
        p = torch.nn.Parameter(inputs['p'].to(args.device).clone())
        opt = make([p])
        for g in ('g1', 'g2', 'g3'):
            p.grad = inputs[g].to(args.device)
            opt.step()
        tensors.append((name + '/final', p))
    os.makedirs(args.out, exist_ok=True)
    entries, offset = [], 0
    with open(os.path.join(args.out, 'tensors.bin'), 'wb') as f:
        for name, t in tensors:
            data = t.detach().cpu().contiguous().numpy().tobytes()
            entries.append({'name': name, 'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'offset': offset})
            f.write(data)
            offset += len(data)
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump({'torch': torch.__version__ + (' (CUDA %s)' % torch.version.cuda if torch.version.cuda else ''), 'device': args.device, 'tensors': entries}, f)
    print('RESULT ' + json.dumps({'tensors': len(entries)}), flush=True)


if __name__ == '__main__':
    main()
