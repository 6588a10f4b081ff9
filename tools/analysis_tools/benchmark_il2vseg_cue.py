# Copyright (c) mmuss contributors. All rights reserved.
"""Speed of IL2Vseg's low-level cue f_γ per image size.

    python tools/analysis_tools/benchmark_il2vseg_cue.py [--sizes 224 320]
        [--batch-size 8] [--clusters 27] [--patch 8] [--iters 10]
        [--chunk 0] [--steps 3] [--device cuda|cpu]

``low_level_visual_cue`` (IL2Vseg Eq. 1: bilinear downsampling to the
(size / patch)^2 grid, spatial fuzzy c-means, Eqs. 3-8, from random head
memberships, and the colour affinity cue, Eqs. 9-12) on random images:
milliseconds per image (after one warm-up call), for each --sizes.
"""

import argparse
from typing import List, Optional

import torch

from mmuss.models.utils.cue_fusion import low_level_visual_cue
from mmuss.utils.benchmarking import default_device, print_table, timed


def cue_speed(
    size: int,
    batch: int,
    clusters: int,
    patch: int,
    iters: int,
    chunk: int,
    steps: int,
    device: str,
) -> float:
    """Milliseconds of f_γ per image at ``size`` px."""
    torch.manual_seed(0)
    dev = torch.device(device)
    grid = size // patch
    images = torch.rand(batch, 3, size, size, device=dev)
    memberships = torch.randn(batch, clusters, grid, grid, device=dev)
    memberships = memberships.softmax(dim=1)

    def call():
        low_level_visual_cue(
            images, memberships, num_iters=iters, chunk_size=chunk or None
        )

    call()  # warm-up
    _, seconds = timed(lambda: [call() for _ in range(steps)], dev)
    return 1000.0 * seconds / (steps * batch)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[224, 320])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--clusters', type=int, default=27)
    parser.add_argument('--patch', type=int, default=8)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument(
        '--chunk', type=int, default=0, help='rows of A at once (0: all)'
    )
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--device', default=default_device())
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return milliseconds per image by size."""
    args = parse_args(argv)
    results = {
        size: cue_speed(
            size,
            args.batch_size,
            args.clusters,
            args.patch,
            args.iters,
            args.chunk,
            args.steps,
            args.device,
        )
        for size in args.sizes
    }
    print_table(
        f'IL2Vseg low-level cue, K = {args.clusters}, {args.iters} fuzzy '
        f'c-means iterations, batch {args.batch_size}, {args.device}',
        ['size (px)', 'grid pixels N', 'cue (ms/image)'],
        [
            [str(size), str((size // args.patch) ** 2), f'{ms:.2f}']
            for size, ms in results.items()
        ],
    )
    return results


if __name__ == '__main__':
    main()
