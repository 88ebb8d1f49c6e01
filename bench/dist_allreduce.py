"""The PyTorch side of bench/Reproduce.DistBench: Gloo all-reduce timings of one rank (torchrun variables set by the
caller); rank 0 prints {"MB": median seconds} as JSON. Usage: dist_allreduce.py SIZES_MB_CSV REPS"""
import json
import sys
import time

import torch
import torch.distributed as dist

sizes = [int(s) for s in sys.argv[1].split(",")]
reps = int(sys.argv[2])
torch.set_num_threads(1)
dist.init_process_group("gloo")
seconds = {}
for mb in sizes:
    t = torch.ones(mb * 1024 * 1024 // 4)
    dist.all_reduce(t)  # warm-up
    times = []
    for _ in range(reps):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(t)
        times.append(time.perf_counter() - start)
    seconds[str(mb)] = sorted(times)[len(times) // 2]
if dist.get_rank() == 0:
    print(json.dumps(seconds))
dist.destroy_process_group()
