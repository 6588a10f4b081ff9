# Copyright (c) mmuss contributors. All rights reserved.
"""Evaluate a checkpoint with an MMEngine runner.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--allow-key-mismatch] [--save-mapping]
        [--cfg-options key=value ...] [--launcher pytorch]

A checkpoint whose keys do not match the model is refused (missing and
unexpected keys listed) unless --allow-key-mismatch is given.

Metrics are logged; the Hungarian metric also writes
``<work_dir>/test_results/hungarian_metrics.json`` and pictures in
``<work_dir>/test_results/vis/``.

With --save-mapping, the Hungarian cluster-to-class assignment of this
evaluation is stored in the checkpoint (rewritten atomically) and in
``<checkpoint name>.cluster_mapping.json`` next to it; inference
(``mmseg.apis``, ``tools/demo.py``) then predicts class ids and names.
"""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmuss.apis import hungarian_mapping_of, store_mapping_in_checkpoint
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
        '--save-mapping',
        action='store_true',
        help='store the cluster-to-class assignment of this evaluation in the '
        'checkpoint and in <checkpoint>.cluster_mapping.json',
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
    metrics = runner.test()
    if args.save_mapping and is_main_process():
        save_mapping(runner, args.checkpoint, cfg, metrics)
    teardown_distributed()


def save_mapping(
    runner: Runner, checkpoint: str, cfg: Config, metrics: dict
) -> None:
    """Store the test evaluation's Hungarian assignment with the
    checkpoint (see :func:`store_mapping_in_checkpoint`)."""
    dataset = cfg.test_dataloader.dataset
    record = hungarian_mapping_of(
        runner.test_evaluator,
        dataset=dataset.get('type'),
        split=dataset.get('split'),
        scores={k: float(v) for k, v in (metrics or {}).items()},
    )
    if record is None:
        raise RuntimeError(
            '--save-mapping needs a HungarianIoUMetric in test_evaluator; '
            f'the config has {cfg.test_evaluator}'
        )
    json_path = store_mapping_in_checkpoint(checkpoint, record)
    print_log(
        f'cluster-to-class mapping stored in {checkpoint} and {json_path}',
        logger='current',
    )


if __name__ == '__main__':
    main()
