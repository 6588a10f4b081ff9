# Copyright (c) mmuss contributors. All rights reserved.
"""Train an mmuss (or any mmseg) model with an MMEngine runner.

python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
    [--global-batch-size N] [--skip-non-finite-steps]
    [--allow-key-mismatch] [--select-by SCORE]
    [--cfg-options key=value ...] [--launcher pytorch]

--select-by (or ``label_free_selection = SCORE`` in the config) keeps the
best checkpoint by a label-free validation score (LabelFreeScoreMetric);
no label is read for it.
"""

import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmuss.utils.label_free_selection import apply_label_free_selection
from mmuss.utils.launch import (
    default_work_dir,
    log_batch_size,
    set_evaluator_output_dirs,
    set_global_batch_size,
    set_hook_option,
    setup_cpu_distributed,
    teardown_distributed,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir',
    )
    parser.add_argument(
        '--allow-key-mismatch',
        action='store_true',
        help='resume from / load a checkpoint whose keys do not match the '
        'model (warn instead of failing)',
    )
    parser.add_argument(
        '--global-batch-size',
        type=int,
        help='images per step over all processes; the per-process batch '
        'becomes this divided by the number of processes',
    )
    parser.add_argument(
        '--skip-non-finite-steps',
        action='store_true',
        help='skip optimizer steps with NaN/inf gradients instead of '
        'stopping training',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training',
    )
    parser.add_argument(
        '--select-by',
        help='keep the best checkpoint by this label-free score '
        "(e.g. affinity; overrides the config's label_free_selection)",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. key1=value1',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.amp:
        if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
            print_log(
                'AMP is already enabled in the config.',
                logger='current',
                level=logging.WARNING,
            )
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    cfg.resume = args.resume or cfg.get('resume', False)
    if args.allow_key_mismatch:
        set_hook_option(cfg, 'CheckpointCheckHook', strict_keys=False)
    if args.skip_non_finite_steps:
        set_hook_option(cfg, 'NonFiniteCheckHook', policy='skip')
    if args.global_batch_size is not None:
        set_global_batch_size(cfg, args.global_batch_size)
    log_batch_size(cfg)
    apply_label_free_selection(cfg, args.select_by)
    set_evaluator_output_dirs(cfg, osp.abspath(cfg.work_dir))
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    teardown_distributed()


if __name__ == '__main__':
    main()
