# Copyright (c) mmuss contributors. All rights reserved.
"""Precompute depth priors (Depth Anything V2) for the images of a config.

    python tools/precompute_depth.py CONFIG
        [--model depth-anything/Depth-Anything-V2-Small-hf] [--device cuda]
        [--batch-size 8] [--num-workers 2] [--splits train val test]
        [--map-dir depth] [--input-size 518] [--no-keep-aspect-ratio]
        [--rank R --world-size N]

MSSSeg (§3.1, §4.1) reads a depth map of every training and evaluation
image from a frozen monocular estimator. Every image of the config's
train/val/test dataloaders (deduplicated by path) is decoded as its
pipeline does, resized so that its short side is --input-size with both
sides multiples of 14, normalised with the ImageNet mean and std and run
through ``transformers``' ``DepthAnythingForDepthEstimation`` (--model: a
Hugging Face id or a ``save_pretrained`` folder, loaded from safetensors
only). The relative inverse depth it predicts is resized back to the image
size and min-max normalised per image to a 16-bit PNG (0..65535) at
``<data_root>/<map_dir>/<image path>.png``, map_dir being that of the
pipeline's ``LoadDenseMap(name='depth')`` (else --map-dir), which loads it
with ``scale=1 / 65535``. Maps are written atomically; complete maps of the
right size are skipped and damaged ones rebuilt (with a warning naming
them), so an interrupted run resumes. Processes launched by torchrun (or
given --rank/--world-size) share the images.
"""

import argparse
import os

from mmuss.datasets.preparation.depth import (
    DEFAULT_DEPTH_MODEL,
    SPLIT_LOADERS,
    depth_targets,
    load_depth_estimator,
    pending_targets,
    precompute_depth,
    shard,
)
from mmuss.utils.offline_tool import load_tool_config, offline_tool_parser


def parse_args() -> argparse.Namespace:
    parser = offline_tool_parser(
        __doc__.splitlines()[0], batch_size=8, dataloader=False
    )
    parser.add_argument(
        '--model',
        default=DEFAULT_DEPTH_MODEL,
        help='Hugging Face id or local folder of a Depth Anything model',
    )
    parser.add_argument(
        '--splits',
        nargs='+',
        default=list(SPLIT_LOADERS),
        choices=list(SPLIT_LOADERS),
    )
    parser.add_argument(
        '--map-dir',
        default='depth',
        help='map folder under data_root when the pipeline has no '
        "LoadDenseMap(name='depth')",
    )
    parser.add_argument('--input-size', type=int, default=518)
    parser.add_argument(
        '--keep-aspect-ratio',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='short side to --input-size (default) or a square input',
    )
    parser.add_argument(
        '--rank', type=int, default=int(os.environ.get('RANK', 0))
    )
    parser.add_argument(
        '--world-size',
        type=int,
        default=int(os.environ.get('WORLD_SIZE', 1)),
    )
    return parser.parse_args()


def process_device(device: str) -> str:
    """``cuda`` becomes this process's GPU under torchrun (LOCAL_RANK)."""
    local_rank = os.environ.get('LOCAL_RANK')
    if device == 'cuda' and local_rank is not None:
        return f'cuda:{local_rank}'
    return device


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args)
    targets = depth_targets(cfg, args.splits, args.map_dir)
    share = shard(targets, args.rank, args.world_size)
    todo = pending_targets(share)
    print(
        f'{len(share) - len(todo)} of {len(share)} maps exist and are '
        f'complete; computing {len(todo)}'
        + (
            f' (rank {args.rank} of {args.world_size}, '
            f'{len(targets)} images in all)'
            if args.world_size > 1
            else ''
        ),
        flush=True,
    )
    if not todo:
        return
    estimator = load_depth_estimator(args.model, process_device(args.device))
    seconds = precompute_depth(
        estimator,
        todo,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        input_size=args.input_size,
        keep_aspect_ratio=args.keep_aspect_ratio,
    )
    print(
        f'\nwrote {len(todo)} maps in {seconds:.1f} s '
        f'({1000 * seconds / len(todo):.1f} ms/image)'
    )


if __name__ == '__main__':
    main()
