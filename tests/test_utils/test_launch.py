# Copyright (c) mmuss contributors. All rights reserved.
import os
import os.path as osp
import subprocess

import pytest
from helpers import REPO_ROOT
from mmengine.config import Config

from mmuss.utils.launch import (
    default_work_dir,
    log_batch_size,
    set_evaluator_output_dirs,
    set_global_batch_size,
    set_hook_option,
)


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


def fake_python(tmp_path):
    """A ``python`` that records its arguments instead of running."""
    folder = tmp_path / 'bin'
    folder.mkdir()
    script = folder / 'python'
    script.write_text('#!/bin/sh\necho "$@" > "$ARGS_FILE"\n')
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh'])
@pytest.mark.parametrize('variable', ['MASTER_PORT', 'PORT'])
def test_dist_scripts_use_the_documented_port(tmp_path, script, variable):
    folder = fake_python(tmp_path)
    args_file = tmp_path / 'args'
    extra = ['ckpt.pth'] if script == 'dist_test.sh' else []
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ('MASTER_PORT', 'PORT')
    }
    env.update(
        PATH=f'{folder}:{env["PATH"]}',
        ARGS_FILE=str(args_file),
        **{variable: '29777'},
    )
    subprocess.run(
        ['bash', osp.join('tools', script), 'cfg.py', *extra, '2'],
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    args = args_file.read_text()
    assert '--master_port=29777' in args
    assert '--nproc_per_node=2' in args


def test_global_batch_size_is_split_over_processes(monkeypatch):
    cfg = Config(dict(train_dataloader=dict(batch_size=4)))
    monkeypatch.setenv('WORLD_SIZE', '4')
    set_global_batch_size(cfg, 32)
    assert cfg.train_dataloader.batch_size == 8
    with pytest.raises(ValueError, match='not divisible by the 4 processes'):
        set_global_batch_size(cfg, 30)


def test_batch_size_is_logged_with_the_process_count(monkeypatch):
    cfg = Config(dict(train_dataloader=dict(batch_size=8)))
    monkeypatch.setenv('WORLD_SIZE', '2')
    out = log_batch_size(cfg)
    assert '8 images per process x 2 process(es) = 16 images per step' in out
    assert '--global-batch-size' in out


def test_set_hook_option_names_a_missing_hook():
    cfg = Config(dict(custom_hooks=[dict(type='CheckpointCheckHook')]))
    set_hook_option(cfg, 'CheckpointCheckHook', strict_keys=False)
    assert cfg.custom_hooks[0]['strict_keys'] is False
    with pytest.raises(KeyError, match='NonFiniteCheckHook'):
        set_hook_option(cfg, 'NonFiniteCheckHook', policy='skip')
