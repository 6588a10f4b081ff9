# Copyright (c) mmuss contributors. All rights reserved.
"""Speed and memory of DS²DL's all-pairs affinity loss per chunk size.

    python tools/analysis_tools/benchmark_ds2dl_pairs.py [--batch-size 32]
        [--size 224] [--patch 8] [--chunks 0 256 64] [--steps 3]
        [--device cuda|cpu] [--in-process]

Forward + backward of ``DS2DLAffinityLoss`` (DS²DL Eq. 3 over every intra-
and cross-image pixel pair) on random 64-d codes of (--size / --patch)^2
pixels per image, for each --chunks row-block size (0: one block): seconds
per step (after one warm-up step) and the peak memory the loss adds (CUDA
allocator peak; on the CPU the growth of the process's peak resident set,
with glibc's mmap threshold fixed so freed blocks are returned). Each size
runs in a fresh process (its own peak), unless --in-process.
"""

import argparse
import os
import resource
from typing import List, Optional

import torch

from mmuss.models.losses import DS2DLAffinityLoss
from mmuss.utils.benchmarking import (
    default_device,
    in_fresh_process,
    peak_memory_mb,
    print_table,
    timed,
)


def baseline_memory_mb(device: torch.device) -> float:
    """The memory already in use before the loss runs."""
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pair_loss_speed(
    batch: int, pixels: int, chunk: int, steps: int, device: str
) -> dict:
    """Seconds per forward + backward of the loss and the peak memory it
    adds, for one chunk size."""
    torch.manual_seed(0)
    dev = torch.device(device)
    loss = DS2DLAffinityLoss(chunk_size=chunk or None).to(dev)
    codes = torch.randn(batch, 64, pixels, 1, device=dev, requires_grad=True)
    labels = torch.randn(batch, 27, pixels, 1, device=dev).softmax(1)
    derangement = torch.roll(torch.arange(batch, device=dev), 1)
    base = baseline_memory_mb(dev)

    def step():
        loss(codes, labels, derangement)['loss_pair'].backward()

    step()  # warm-up
    _, seconds = timed(lambda: [step() for _ in range(steps)], dev)
    return dict(seconds=seconds / steps, peak_mb=peak_memory_mb(dev) - base)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--patch', type=int, default=8)
    parser.add_argument('--chunks', type=int, nargs='+', default=[0, 256, 64])
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--device', default=default_device())
    parser.add_argument(
        '--in-process',
        action='store_true',
        help='measure in this process (peak memory is then cumulative)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return the figures per chunk size."""
    args = parse_args(argv)
    pixels = (args.size // args.patch) ** 2
    # glibc raises its mmap threshold after large frees, so freed blocks
    # stay resident and the CPU peak grows with fragmentation rather than
    # with what the loss holds; a fixed threshold (read by fresh processes)
    # makes the figure the loss's.
    os.environ.setdefault('MALLOC_MMAP_THRESHOLD_', '65536')
    run = pair_loss_speed if args.in_process else None
    results = {}
    for chunk in args.chunks:
        measure = (args.batch_size, pixels, chunk, args.steps, args.device)
        if run is not None:
            results[chunk] = run(*measure)
        else:
            results[chunk] = in_fresh_process(pair_loss_speed, *measure)
    pairs = 2 * args.batch_size * pixels * pixels
    print_table(
        f'DS2DL affinity loss, batch {args.batch_size}, N = {pixels} '
        f'pixels ({pairs / 1e6:.1f} M pairs), {args.device}',
        ['chunk rows', 'forward+backward (s/step)', 'added peak memory (MB)'],
        [
            [
                str(chunk or 'none'),
                f'{result["seconds"]:.4f}',
                f'{result["peak_mb"]:.0f}',
            ]
            for chunk, result in results.items()
        ],
    )
    return dict(pixels=pixels, pairs=pairs, results=results)


if __name__ == '__main__':
    main()
