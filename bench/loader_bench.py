#!/usr/bin/python3
"""Reference side of `Reproduce.DataBench --loader`: torch.utils.data.DataLoader over an ImageNet-style JPEG tree with
PIL transforms, at a given number of worker processes.

Usage: loader_bench.py ROOT WORKERS BATCH PASSES — prints one JSON line {"imgs": img/s}. Pipeline per image, as timm's
train transform with RandAugment builds it on PIL images: decode to RGB, RandomResizedCrop(224, scale 0.08-1, ratio
3/4-4/3, bilinear), horizontal flip p=0.5, RandAugment rand-m9-mstd0.5-inc1 (2 ops, each applied with p=0.5, timm's
increasing op set, written here with PIL as timm's auto_augment.py does, since Debian ships no torchvision), to float,
ImageNet normalisation; default collate into [B,3,224,224]. Only python3-torch and python3-pil are needed.
"""
import json, math, os, random, sys, time

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageOps
from torch.utils.data import DataLoader, Dataset

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)
FILL = (124, 116, 104)


def rrc(img, rng, size=224):
    w, h = img.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(0.08, 1.0)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return img.resize((size, size), Image.BILINEAR, box=(x, y, x + cw, y + ch))
    s = min(w, h)
    return img.resize((size, size), Image.BILINEAR, box=((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))


def affine(img, m):
    return img.transform(img.size, Image.AFFINE, m, resample=Image.BILINEAR, fillcolor=FILL)


def signed(v, rng):
    return -v if rng.random() < 0.5 else v


OPS = {  # magnitude m in [0, 10] -> the op, as timm's _RAND_INCREASING_TRANSFORMS
    "AutoContrast": lambda img, m, r: ImageOps.autocontrast(img),
    "Equalize": lambda img, m, r: ImageOps.equalize(img),
    "Invert": lambda img, m, r: ImageOps.invert(img),
    "Rotate": lambda img, m, r: img.rotate(signed(m / 10 * 30, r), resample=Image.BILINEAR, fillcolor=FILL),
    "PosterizeIncreasing": lambda img, m, r: ImageOps.posterize(img, max(1, 4 - int(m / 10 * 4))),
    "SolarizeIncreasing": lambda img, m, r: ImageOps.solarize(img, 256 - int(m / 10 * 256)),
    "SolarizeAdd": lambda img, m, r: Image.eval(img, lambda p, a=int(m / 10 * 110): min(255, p + a) if p < 128 else p),
    "ColorIncreasing": lambda img, m, r: ImageEnhance.Color(img).enhance(1 + signed(m / 10 * 0.9, r)),
    "ContrastIncreasing": lambda img, m, r: ImageEnhance.Contrast(img).enhance(1 + signed(m / 10 * 0.9, r)),
    "BrightnessIncreasing": lambda img, m, r: ImageEnhance.Brightness(img).enhance(1 + signed(m / 10 * 0.9, r)),
    "SharpnessIncreasing": lambda img, m, r: ImageEnhance.Sharpness(img).enhance(1 + signed(m / 10 * 0.9, r)),
    "ShearX": lambda img, m, r: affine(img, (1, signed(m / 10 * 0.3, r), 0, 0, 1, 0)),
    "ShearY": lambda img, m, r: affine(img, (1, 0, 0, signed(m / 10 * 0.3, r), 1, 0)),
    "TranslateXRel": lambda img, m, r: affine(img, (1, 0, signed(m / 10 * 0.45, r) * img.size[0], 0, 1, 0)),
    "TranslateYRel": lambda img, m, r: affine(img, (1, 0, 0, 0, 1, signed(m / 10 * 0.45, r) * img.size[1])),
}
NAMES = list(OPS)


def rand_augment(img, rng, n=2, m=9, mstd=0.5):
    for name in rng.choices(NAMES, k=n):
        if rng.random() < 0.5:
            img = OPS[name](img, min(10, max(0, rng.gauss(m, mstd))), rng)
    return img


class Tree(Dataset):
    def __init__(self, root):
        classes = sorted(os.listdir(root))
        self.items = [(os.path.join(root, c, f), i) for i, c in enumerate(classes) for f in sorted(os.listdir(os.path.join(root, c)))]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, k):
        path, label = self.items[k]
        rng = random.Random(k)
        img = Image.open(path).convert("RGB")
        img = rrc(img, rng)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img = rand_augment(img, rng)
        x = (np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0 - MEAN) / STD
        return torch.from_numpy(x), label


def main():
    root, workers, batch, passes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    data = Tree(root)
    loader = DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    for _ in loader:  # warm up (worker start, page cache)
        break
    start, n = time.perf_counter(), 0
    for _ in range(passes):
        for x, _ in loader:
            n += x.shape[0]
    print(json.dumps({"imgs": n / (time.perf_counter() - start)}))


if __name__ == "__main__":
    main()
