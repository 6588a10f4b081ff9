# Copyright (c) mmuss contributors. All rights reserved.
"""Speed of MSSSeg's persistent-homology loss per map size and workers.

    python tools/analysis_tools/benchmark_phloss.py [--sizes 28 56]
        [--batch-size 16] [--channels 27] [--workers 0 2]
        [--parallel process thread] [--select all] [--steps 3]

:class:`mmuss.models.losses.PHLoss` forward + backward (gudhi diagrams and
matching on the CPU, H0 and H1) on smooth random softmax maps (logits drawn
on a grid 4x coarser, upsampled bilinearly) against pseudo labels from
noisier logits: milliseconds per batch, after a warm-up call that also
starts the worker pool, for each size, worker count (0: in this process)
and pool kind, with the speed-up over the first setting (0 workers by
default).
"""

import argparse
from typing import List, Optional

import torch
import torch.nn.functional as F

from mmuss.models.losses import PHLoss
from mmuss.models.losses.ph_loss import shutdown_executors
from mmuss.models.utils.dense_crf import default_num_workers
from mmuss.utils.benchmarking import print_table, timed


def smooth_inputs(batch: int, channels: int, size: int, seed: int = 0):
    """Smooth softmax probabilities (B, K, size, size) and pseudo labels
    (B, size, size) from perturbed logits."""
    generator = torch.Generator().manual_seed(seed)
    coarse = max(1, size // 4)
    logits = 3 * torch.randn(
        batch, channels, coarse, coarse, generator=generator
    )
    logits = F.interpolate(logits, size=(size, size), mode='bilinear')
    noise = torch.randn(logits.shape, generator=generator)
    return logits.softmax(dim=1), (logits + noise).argmax(dim=1)


def loss_speed(
    size: int,
    batch: int,
    channels: int,
    workers: int,
    parallel: str,
    select: str,
    steps: int,
) -> float:
    """Milliseconds of one forward + backward of PHLoss on one batch."""
    probs, labels = smooth_inputs(batch, channels, size)
    probs.requires_grad_()
    loss = PHLoss(channels=select, num_workers=workers, parallel=parallel)

    def call():
        loss(probs, labels).backward()

    call()  # warm-up, starts the pool
    _, seconds = timed(lambda: [call() for _ in range(steps)])
    return 1000.0 * seconds / steps


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[28, 56])
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--channels', type=int, default=27)
    parser.add_argument(
        '--workers', type=int, nargs='+', help='default: 0 and all cores'
    )
    parser.add_argument(
        '--parallel',
        nargs='+',
        choices=['process', 'thread'],
        default=['process', 'thread'],
    )
    parser.add_argument(
        '--select', default='all', help='PHLoss channels: all or present'
    )
    parser.add_argument('--steps', type=int, default=3)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return ms per batch by (size, workers, parallel)
    (parallel ``'-'`` for 0 workers)."""
    args = parse_args(argv)
    workers = args.workers or sorted({0, default_num_workers()})
    settings = [
        (count, '-' if count == 0 else parallel)
        for count in workers
        for parallel in (['-'] if count == 0 else args.parallel)
    ]
    results, rows = {}, []
    for size in args.sizes:
        for count, parallel in settings:
            ms = loss_speed(
                size,
                args.batch_size,
                args.channels,
                count,
                'process' if parallel == '-' else parallel,
                args.select,
                args.steps,
            )
            results[size, count, parallel] = ms
            base = results[(size, *settings[0])]
            rows.append(
                [size, count, parallel, f'{ms:.1f}', f'{base / ms:.2f}x']
            )
    shutdown_executors()
    print_table(
        f'PHLoss forward + backward, batch {args.batch_size}, '
        f'{args.channels} channels ({args.select}), H0 + H1, CPU',
        ['size', 'workers', 'pool', 'ms/batch', 'speed-up'],
        rows,
    )
    return results


if __name__ == '__main__':
    main()
