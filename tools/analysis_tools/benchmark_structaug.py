# Copyright (c) mmuss contributors. All rights reserved.
"""Speed of MSSSeg's StructAug view per image size.

    python tools/analysis_tools/benchmark_structaug.py [--sizes 224]
        [--batch-size 8] [--kernel-size 3] [--steps 3] [--soft]
        [--device cpu|cuda]

:class:`~mmuss.models.view_generators.StructAug` (HSL conversion, the
four-operator geodesic toolbox, Gumbel selection, Eq. 8 blend, back to
RGB) on random pixel values: milliseconds per batch for the forward pass
alone and for forward + backward to its 9 scalars (after one warm-up
call), for each --sizes.
"""

import argparse
from typing import Callable, Dict, List, Optional

import torch

from mmuss.models.view_generators import StructAug
from mmuss.utils.benchmarking import default_device, print_table, timed


def structaug_speed(
    size: int,
    batch: int,
    kernel_size: int,
    hard: bool,
    steps: int,
    device: str,
) -> Dict[str, float]:
    """Milliseconds per batch of ``batch`` images of ``size`` px:
    ``forward`` and ``forward_backward``."""
    torch.manual_seed(0)
    dev = torch.device(device)
    generator = StructAug(kernel_size=kernel_size, hard=hard).to(dev)
    pixels = torch.rand(batch, 3, size, size, device=dev) * 255

    def forward():
        with torch.no_grad():
            generator(pixels)

    def forward_backward():
        generator(pixels).mean().backward()
        generator.zero_grad(set_to_none=True)

    return dict(
        forward=milliseconds_per_call(forward, steps, dev),
        forward_backward=milliseconds_per_call(forward_backward, steps, dev),
    )


def milliseconds_per_call(
    call: Callable[[], None], steps: int, device: torch.device
) -> float:
    """Milliseconds per call of ``call`` over ``steps`` calls, after one
    warm-up call."""
    call()

    def repeated():
        for _ in range(steps):
            call()

    _, seconds = timed(repeated, device)
    return 1000.0 * seconds / steps


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[224])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--kernel-size', type=int, default=3)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument(
        '--soft',
        action='store_true',
        help='soft Gumbel-softmax mixture instead of a hard selection',
    )
    parser.add_argument('--device', default=default_device())
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return the milliseconds per batch by size."""
    args = parse_args(argv)
    results = {
        size: structaug_speed(
            size,
            args.batch_size,
            args.kernel_size,
            not args.soft,
            args.steps,
            args.device,
        )
        for size in args.sizes
    }
    selection = 'soft' if args.soft else 'hard'
    print_table(
        f'StructAug, {args.kernel_size}x{args.kernel_size} neighbourhood, '
        f'{selection} selection, batch {args.batch_size}, {args.device}',
        ['size (px)', 'forward (ms/batch)', 'forward+backward (ms/batch)'],
        [
            [
                str(size),
                f'{ms["forward"]:.1f}',
                f'{ms["forward_backward"]:.1f}',
            ]
            for size, ms in results.items()
        ],
    )
    return results


if __name__ == '__main__':
    main()
