# Copyright (c) mmuss contributors. All rights reserved.
"""Speed of the PriMaPs mask proposals against a reference loop.

    python tools/analysis_tools/benchmark_primaps.py [--images 8]
        [--size 40] [--channels 384]

Mask proposals (before the CRF) of --images feature maps of --size x --size
(40x40 = ViT-S/8 at 320 px) with --channels channels, made of blocky
regions like a ViT feature map of a scene: mmuss's batched generator
(exact eigh of running moments) against a straightforward per-iteration
torch.pca_lowrank loop. Printed: ms/image of both, the speed-up, whether
their masks are identical and the mean number of masks per image.
"""

import argparse
from typing import List, Optional

import torch
import torch.nn.functional as F

from mmuss.models.utils.primaps import (
    principal_mask_proposals,
    reference_proposals_pca_lowrank,
)
from mmuss.utils.benchmarking import print_table, timed


def structured_features(
    batch: int, channels: int, size: int, regions: int = 8, seed: int = 0
) -> torch.Tensor:
    """Random features made of ``regions`` blocky regions, like a ViT
    feature map of a scene."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(regions, channels, generator=generator)
    labels = torch.randint(
        0, regions, (batch, 1, 5, 5), generator=generator
    ).float()
    labels = F.interpolate(labels, size=(size, size), mode='nearest')
    feats = directions[labels[:, 0].long()].permute(0, 3, 1, 2)
    return feats + 0.5 * torch.randn(feats.shape, generator=generator)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--size', type=int, default=40)
    parser.add_argument('--channels', type=int, default=384)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return its figures and mmuss's masks."""
    args = parse_args(argv)
    feats = structured_features(args.images, args.channels, args.size)
    ours, batched_s = timed(lambda: principal_mask_proposals(feats))
    reference, loop_s = timed(lambda: reference_proposals_pca_lowrank(feats))
    batched_ms = batched_s / args.images * 1e3
    loop_ms = loop_s / args.images * 1e3
    identical = bool(torch.equal(ours, reference))
    masks_per_image = ours.flatten(1).max(1).values.float().mean().item()
    rows = [
        ['batched eigh, running moments (mmuss)', f'{batched_ms:.1f}'],
        ['per-iteration torch.pca_lowrank loop', f'{loop_ms:.1f}'],
        ['speed-up', f'{loop_ms / batched_ms:.2f}x'],
        ['identical masks', str(identical)],
        ['masks per image', f'{masks_per_image:.1f}'],
    ]
    print_table(
        f'PriMaPs proposals, {args.images} images, '
        f'{args.size}x{args.size} features of {args.channels} '
        'channels (before the CRF)',
        ['measure', 'ms/image'],
        rows,
    )
    return dict(
        batched_ms=batched_ms,
        loop_ms=loop_ms,
        identical=identical,
        masks_per_image=masks_per_image,
        masks=ours,
    )


if __name__ == '__main__':
    main()
