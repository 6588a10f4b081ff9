# Copyright (c) mmuss contributors. All rights reserved.
"""Fill the frozen-feature cache of a config ahead of training.

    python tools/fill_feature_cache.py CONFIG [--cache-dir DIR]
        [--batch-size 16] [--num-workers 2] [--device cuda]

Runs every training image through the config's training pipeline and data
preprocessor and stores the frozen backbone's outputs in the cache of
``model.feature_cache`` (or --cache-dir), both orientations when the
pipeline flips at random. Training with the same config then reads the
features instead of running the backbone (KNN images, being training
images, hit the same entries). Existing entries are kept, so an interrupted
fill resumes; writes are atomic, so several fills (or a fill and a
training) may run at once. Random photometric transforms on the main image
would make every input new, which defeats the cache: they are reported.
"""

import argparse
import time

from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader

from mmuss.utils.offline_tool import (
    load_tool_config,
    offline_tool_parser,
    unwrap_dataset_cfg,
)

RANDOM_PHOTOMETRIC = (
    'PhotoMetricDistortion',
    'RandomBrightness',
    'RandomContrast',
    'ColorJitter',
)


def parse_args() -> argparse.Namespace:
    parser = offline_tool_parser(__doc__.splitlines()[0])
    parser.add_argument('--cache-dir', help='overrides the config')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args)
    if args.cache_dir:
        cfg.model.feature_cache = dict(
            cfg.model.get('feature_cache') or {}, cache_dir=args.cache_dir
        )
    if not cfg.model.get('feature_cache'):
        raise ValueError(
            'the config has no model.feature_cache; set it or pass --cache-dir'
        )
    dataset_cfg, _ = unwrap_dataset_cfg(cfg, args.dataloader)
    types = [t['type'] for t in dataset_cfg['pipeline']]
    random_photometric = [t for t in types if t in RANDOM_PHOTOMETRIC]
    if random_photometric:
        print(
            f'warning: {random_photometric} change the image at every '
            'epoch; cached features will not be reused'
        )
    both_orientations = 'RandomFlip' in types
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device).train()
    cached = model.feature_cache
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        collate_fn=pseudo_collate,
    )
    start, done = time.time(), 0
    for batch in loader:
        data = model.data_preprocessor(batch, True)
        images = model.image_inputs(data['inputs'])
        cached(images)
        if both_orientations:
            cached(images.flip(-1))
        done += len(batch['inputs'])
        print(
            f'{done}/{len(dataset)} images '
            f'({done / (time.time() - start):.2f} images/s, '
            f'{cached.cache.hits} already cached)',
            flush=True,
        )


if __name__ == '__main__':
    main()
