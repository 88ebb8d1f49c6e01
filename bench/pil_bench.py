#!/usr/bin/python3
"""Reference side of bench/Reproduce.DataBench: PIL decode + torchvision transforms, one thread.

Usage: pil_bench.py DIR PASSES ROUND — times decoding alone, then decode + RandomResizedCrop(224)
+ horizontal flip + ToTensor + Normalize over the *.jpg files in DIR, and prints one JSON line
{"decode": img/s, "full": img/s}. Needs Debian's python3-pil and python3-torchvision.
"""
import io, json, os, sys, time

import torch
from PIL import Image
from torchvision import transforms

torch.set_num_threads(1)
directory, passes, rnd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".jpg"))
data = [open(f, "rb").read() for f in files]  # both sides time decoding, not disk
pipeline = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
])
torch.manual_seed(rnd)


def run(augment):
    start = time.perf_counter()
    for _ in range(passes):
        for b in data:
            img = Image.open(io.BytesIO(b)).convert("RGB")
            if augment:
                pipeline(img)
    return passes * len(data) / (time.perf_counter() - start)


run(True)  # warm up
print(json.dumps({"decode": run(False), "full": run(True)}))
