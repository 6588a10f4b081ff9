# Copyright (c) mmuss contributors. All rights reserved.
"""Training speed of a config without and with the frozen-feature cache.

    python tools/analysis_tools/benchmark_feature_cache.py [CONFIG]
        [--batch-size 16] [--steps 3] [--warmup 1] [--device cpu]
        [--synthetic] [--size SIZE] [--cfg-options KEY=VALUE ...]

The training steps of tools/analysis_tools/benchmark_train.py (CONFIG
defaults to STEGO, DINO ViT-S/8, COCO-Stuff-27), run twice, each in a fresh
process so that their peak memories are separate: with the backbone every
step, then through a feature cache in a temporary folder, filled by the
warm-up steps (as from the second epoch on). Printed: steps/s and peak
memory of both, and the speed-up (cached steps/s over backbone steps/s).
"""

import argparse
import os.path as osp
import tempfile
from typing import List, Optional

from mmuss.utils.benchmarking import (
    add_config_arguments,
    add_training_arguments,
    in_fresh_process,
    load_config,
    prepare_data,
    print_table,
    repository_config,
    train_speed,
)

STEGO_COCO_CONFIG = repository_config('stego', 'dino_vits8_cocostuff27.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_arguments(parser, STEGO_COCO_CONFIG)
    add_training_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the comparison table; return its figures."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg = load_config(args.config, args.cfg_options, work_dir)
        synthetic = prepare_data(
            cfg,
            ['train_dataloader'],
            args.synthetic,
            args.size,
            args.synthetic_images,
            args.device,
        )
        train = (cfg, args.batch_size, args.steps, args.warmup, args.device)
        backbone = in_fresh_process(train_speed, *train)
        cached = in_fresh_process(
            train_speed, *train, cache_dir=osp.join(work_dir, 'cache')
        )
    speed_up = cached['steps_per_s'] / backbone['steps_per_s']
    rows = [
        [
            'train, backbone every step',
            f'{backbone["steps_per_s"]:.3f} steps/s',
            f'{backbone["peak_mb"]:.0f}',
        ],
        [
            'train, feature cache',
            f'{cached["steps_per_s"]:.3f} steps/s ({speed_up:.2f}x)',
            f'{cached["peak_mb"]:.0f}',
        ],
    ]
    data = 'synthetic scenes' if synthetic else 'config data'
    print_table(
        f'feature cache, {osp.basename(args.config)}, batch '
        f'{args.batch_size} at {backbone["size"]}px, {data}, {args.device}',
        ['measure', 'speed', 'peak memory (MB)'],
        rows,
    )
    return dict(
        backbone=backbone,
        cached=cached,
        speed_up=speed_up,
        synthetic=synthetic,
    )


if __name__ == '__main__':
    main()
