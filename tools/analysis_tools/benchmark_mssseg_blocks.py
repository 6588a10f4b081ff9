# Copyright (c) mmuss contributors. All rights reserved.
"""Speed of MSSSeg's DBC module and DCA decoder, forward + backward.

    python tools/analysis_tools/benchmark_mssseg_blocks.py
        [--batch-size 16] [--classes 27] [--dbc-size 56]
        [--box-sizes 2 4 8 16 32 64] [--channels 384] [--feature-size 28]
        [--steps 3] [--device cpu|cuda]

:class:`~mmuss.models.necks.DifferentiableBoxCounting` (the four
descriptors SA, SB, DA, DB of soft class probabilities and a depth map, the
box-count signatures, both MLPs) followed by the L_align loss, and
:class:`~mmuss.models.necks.DCADecoder` (ViT-S/8-sized features and the
DBC vector to class logits, default settings) on random inputs:
milliseconds per forward + backward after one warm-up call.
"""

import argparse
from typing import Callable, Dict, List, Optional

import torch

from mmuss.models.losses import DBCAlignmentLoss
from mmuss.models.necks import DCADecoder, DifferentiableBoxCounting
from mmuss.utils.benchmarking import default_device, print_table, timed


def milliseconds_per_call(
    call: Callable[[], None], steps: int, device: torch.device
) -> float:
    """Milliseconds per call over ``steps`` calls, after one warm-up."""
    call()

    def repeated():
        for _ in range(steps):
            call()

    _, seconds = timed(repeated, device)
    return 1000.0 * seconds / steps


def dbc_speed(
    batch: int,
    classes: int,
    size: int,
    box_sizes: List[int],
    steps: int,
    device: str,
) -> float:
    """ms of DBC + L_align forward + backward on soft probabilities."""
    torch.manual_seed(0)
    dev = torch.device(device)
    module = DifferentiableBoxCounting(classes, box_sizes=box_sizes).to(dev)
    loss = DBCAlignmentLoss()
    logits = torch.randn(batch, classes, size, size, device=dev)
    logits.requires_grad_()
    depth = torch.rand(batch, 1, size, size, device=dev)

    def call():
        vectors = module(logits.softmax(1), depth)
        loss(vectors.semantic, vectors.depth)['loss_align'].backward()
        module.zero_grad(set_to_none=True)
        logits.grad = None

    return milliseconds_per_call(call, steps, dev)


def dca_speed(
    batch: int,
    classes: int,
    channels: int,
    size: int,
    steps: int,
    device: str,
) -> float:
    """ms of the DCA decoder forward + backward (to the features too)."""
    torch.manual_seed(0)
    dev = torch.device(device)
    vector_channels = 128
    decoder = DCADecoder(channels, classes, vector_channels).to(dev)
    feats = torch.randn(batch, channels, size, size, device=dev)
    feats.requires_grad_()
    vector = torch.randn(batch, vector_channels, device=dev)

    def call():
        decoder(feats, vector).mean().backward()
        decoder.zero_grad(set_to_none=True)
        feats.grad = None

    return milliseconds_per_call(call, steps, dev)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--classes', type=int, default=27)
    parser.add_argument('--dbc-size', type=int, default=56)
    parser.add_argument(
        '--box-sizes', type=int, nargs='+', default=[2, 4, 8, 16, 32, 64]
    )
    parser.add_argument('--channels', type=int, default=384)
    parser.add_argument('--feature-size', type=int, default=28)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--device', default=default_device())
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Print the table; return ms per forward + backward by block
    (``'dbc'``, ``'dca'``)."""
    args = parse_args(argv)
    results = dict(
        dbc=dbc_speed(
            args.batch_size,
            args.classes,
            args.dbc_size,
            args.box_sizes,
            args.steps,
            args.device,
        ),
        dca=dca_speed(
            args.batch_size,
            args.classes,
            args.channels,
            args.feature_size,
            args.steps,
            args.device,
        ),
    )
    sizes = ','.join(str(s) for s in args.box_sizes)
    size, feature = args.dbc_size, args.feature_size
    rows = [
        [
            'dbc',
            f'{args.classes}x{size}x{size} + depth, boxes {sizes}',
            f'{results["dbc"]:.1f}',
        ],
        [
            'dca',
            f'{args.channels}x{feature}x{feature} + vector',
            f'{results["dca"]:.1f}',
        ],
    ]
    print_table(
        f'MSSSeg blocks forward + backward, batch {args.batch_size}, '
        f'{args.device}',
        ['block', 'input', 'ms/batch'],
        rows,
    )
    return results


if __name__ == '__main__':
    main()
