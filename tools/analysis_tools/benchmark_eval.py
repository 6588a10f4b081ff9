# Copyright (c) mmuss contributors. All rights reserved.
"""Evaluation speed of a config's test mode, in images/s.

    python tools/analysis_tools/benchmark_eval.py [CONFIG] [--images 16]
        [--batch-size 8] [--device cpu] [--synthetic] [--size SIZE]
        [--cfg-options KEY=VALUE ...]

CONFIG defaults to STEGO, DINO ViT-S/8, COCO-Stuff-27. The model (random
weights) runs its test step (the config's test_cfg: inference mode, flips,
test-time views; without the dense CRF, which
tools/analysis_tools/benchmark_crf.py times) on the first batch of the
config's test dataloader (its dataset and pipeline, e.g. the resize to the
evaluation size) until --images images are done, after an untimed warm-up
batch. Without the config's data (or with --synthetic) the image dataset is
replaced by synthetic scenes (see mmuss.utils.benchmarking), which the test
pipeline resizes as it would the real images.
"""

import argparse
import os.path as osp
import tempfile
from typing import List, Optional

import torch
from mmseg.registry import MODELS

from mmuss.utils.benchmarking import (
    add_config_arguments,
    first_batch,
    load_config,
    prepare_data,
    print_table,
    quiet_logs,
    repository_config,
    timed,
)

STEGO_COCO_CONFIG = repository_config('stego', 'dino_vits8_cocostuff27.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_arguments(parser, STEGO_COCO_CONFIG)
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument('--batch-size', type=int, default=8)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the evaluation table; return its figures."""
    args = parse_args(argv)
    quiet_logs()
    with tempfile.TemporaryDirectory() as work_dir:
        cfg = load_config(args.config, args.cfg_options, work_dir)
        synthetic = prepare_data(
            cfg,
            ['test_dataloader'],
            args.synthetic,
            args.size,
            args.synthetic_images,
            args.device,
        )
        batch = first_batch(cfg, 'test_dataloader', args.batch_size)
    cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, use_crf=False)
    device = torch.device(args.device)
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.eval()
    model.test_step(batch)  # warm-up
    batches = -(-args.images // args.batch_size)

    def run():
        for _ in range(batches):
            model.test_step(batch)

    _, seconds = timed(run, device)
    done = batches * len(batch['inputs'])
    rate = done / seconds
    size = int(batch['inputs'][0].shape[-1])
    data = 'synthetic scenes' if synthetic else 'config data'
    print_table(
        f'evaluation, {osp.basename(args.config)}, {done} images at '
        f'{size}px, batch {args.batch_size}, {data}, {args.device}',
        ['measure', 'value'],
        [['evaluation images/s', f'{rate:.2f}']],
    )
    return dict(images_per_s=rate, images=done, size=size, synthetic=synthetic)


if __name__ == '__main__':
    main()
