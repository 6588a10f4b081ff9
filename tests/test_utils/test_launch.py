# Copyright (c) mmuss contributors. All rights reserved.
import os.path as osp

from mmengine.config import Config

from mmuss.utils.launch import default_work_dir, set_evaluator_output_dirs


def test_default_work_dirs_of_same_named_configs_differ():
    baseline = default_work_dir('configs/baseline/dino_vits8_cocostuff27.py')
    stego = default_work_dir('configs/stego/dino_vits8_cocostuff27.py')
    assert baseline == osp.join(
        './work_dirs', 'baseline', 'dino_vits8_cocostuff27'
    )
    assert stego != baseline


def test_hungarian_metrics_report_into_the_work_dir():
    cfg = Config(
        dict(
            val_evaluator=dict(type='HungarianIoUMetric'),
            test_evaluator=[
                dict(type='HungarianIoUMetric', output_dir='kept'),
                dict(type='IoUMetric'),
            ],
        )
    )
    set_evaluator_output_dirs(cfg, 'run')
    assert cfg.val_evaluator.output_dir == osp.join('run', 'val_results')
    assert cfg.test_evaluator[0].output_dir == 'kept'
    assert 'output_dir' not in cfg.test_evaluator[1]
