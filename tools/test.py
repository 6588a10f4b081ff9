# Copyright (c) mmuss contributors. All rights reserved.
"""Evaluate a checkpoint with an MMEngine runner.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--allow-key-mismatch] [--cfg-options key=value ...]
        [--launcher pytorch]

A checkpoint whose keys do not match the model is refused (missing and
unexpected keys listed) unless --allow-key-mismatch is given.

Metrics are logged; the Hungarian metric also writes
``<work_dir>/test_results/hungarian_metrics.json`` and pictures in
``<work_dir>/test_results/vis/``.
"""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmuss.utils.launch import (
    default_work_dir,
    set_evaluator_output_dirs,
    set_hook_option,
    setup_cpu_distributed,
    teardown_distributed,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--out-dir',
        help='folder for the Hungarian metric report and pictures '
        '(default: <work_dir>/test_results)',
    )
    parser.add_argument(
        '--allow-key-mismatch',
        action='store_true',
        help='evaluate even if checkpoint and model keys differ (warn)',
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
    cfg.load_from = args.checkpoint
    if args.allow_key_mismatch:
        set_hook_option(cfg, 'CheckpointCheckHook', strict_keys=False)
    if args.out_dir is not None:
        cfg.test_evaluator['output_dir'] = args.out_dir
    set_evaluator_output_dirs(cfg, osp.abspath(cfg.work_dir))
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()
    teardown_distributed()


if __name__ == '__main__':
    main()
