# Copyright (c) mmuss contributors. All rights reserved.
"""Training speed of a config: steps/s, images/s and peak memory.

    python tools/analysis_tools/benchmark_train.py [CONFIG] [--batch-size 16]
        [--steps 3] [--warmup 1] [--feature-cache] [--device cpu]
        [--synthetic] [--size SIZE] [--modules NAME ...]
        [--cfg-options KEY=VALUE ...]

CONFIG defaults to STEGO, DINO ViT-S/8, COCO-Stuff-27. The model (random
weights: the speed does not depend on them) is set up as its runner sets it
up before the first step (every hook's before_train, e.g. a head's
prototype initialisation), then --steps training steps on the first batch
of the config's training dataloader (its dataset, wrappers and pipeline:
every view a method packs) are timed after --warmup untimed ones. Without
the config's data (or with --synthetic) the image dataset is replaced by
synthetic scenes at the training crop size (see mmuss.utils.benchmarking).
With --feature-cache the steps go through a frozen-feature cache in a
temporary folder, filled by the warm-up (as from the second epoch on).
Printed: training steps/s, images/s (steps/s x batch size), peak memory and
the time per step of the head alone (codes and loss_by_codes, forward and
backward, on the batch's frozen features and views). --modules names
submodules (e.g. decode_head.loss_ph decode_head.dca view_generators) whose
forward time per step and share of the step are printed, measured over
--steps more steps (forward only: their backward is in the step's rest).
"""

import argparse
import os.path as osp
import tempfile
from typing import List, Optional

from mmuss.utils.benchmarking import (
    add_config_arguments,
    add_training_arguments,
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
    parser.add_argument(
        '--feature-cache',
        action='store_true',
        help='train through a frozen-feature cache filled by the warm-up',
    )
    parser.add_argument(
        '--modules',
        nargs='+',
        default=[],
        help='submodules whose forward time per step is printed',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the training table; return its figures."""
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
        cache_dir = osp.join(work_dir, 'cache') if args.feature_cache else None
        result = train_speed(
            cfg,
            args.batch_size,
            args.steps,
            args.warmup,
            args.device,
            cache_dir=cache_dir,
            head_loss=True,
            module_names=args.modules,
        )
    rows = [
        ['training steps/s', f'{result["steps_per_s"]:.3f}'],
        ['images/s', f'{result["images_per_s"]:.2f}'],
        ['peak memory (MB)', f'{result["peak_mb"]:.0f}'],
        [
            'head codes + loss forward+backward (s/step)',
            f'{result["head_loss_s"]:.4f}',
        ],
    ]
    shares = result.get('module_s', {})
    for name in args.modules:
        rows.append(
            [
                f'forward of {name} (s/step, share)',
                f'{shares[name]:.4f} ({shares[name] / shares["step"]:.0%})',
            ]
        )
    data = 'synthetic scenes' if synthetic else 'config data'
    cache = ', feature cache' if args.feature_cache else ''
    print_table(
        f'training, {osp.basename(args.config)}, batch {args.batch_size}, '
        f'{result["size"]}px, {data}{cache}, {args.device}',
        ['measure', 'value'],
        rows,
    )
    return dict(result, synthetic=synthetic)


if __name__ == '__main__':
    main()
