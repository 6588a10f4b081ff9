# Copyright (c) mmuss contributors. All rights reserved.
"""PriMaPs-EM through the MMEngine runner: initialisation, EM and EMA, in
one process and in two (gloo on the CPU)."""

import os
import socket
import subprocess

import torch
from helpers import REPO_ROOT, primaps_demo_config
from mmengine.runner import Runner


def test_runner_initialises_then_runs_em(tmp_path):
    cfg = primaps_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_epochs=4, kmeans_epochs=1
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    head = runner.model.decode_head
    assert bool(head.initialized)
    assert int(head.kmeans_iters) == 4  # 1 epoch of 16 images, batch 4
    assert int(head.steps) == 16
    # EM steps 1..12, EMA every 10 -> one update
    assert int(head.prototypes.updates) == 1
    assert not torch.allclose(
        head.prototypes.teacher, head.prototypes.student.detach()
    )
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100


def test_resume_keeps_prototypes(tmp_path):
    cfg = primaps_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_epochs=2, kmeans_epochs=1
    )
    Runner.from_cfg(cfg).train()
    cfg = primaps_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_epochs=3, kmeans_epochs=1
    )
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    log = sorted((tmp_path / 'work').glob('*/*.log'))[-1].read_text()
    assert 'PriMaPs prototypes restored from the checkpoint' in log
    head = runner.model.decode_head
    assert int(head.steps) == 12 and int(head.kmeans_iters) == 4


def test_two_processes_hold_identical_prototypes(tmp_path):
    cfg = primaps_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_epochs=4, kmeans_epochs=1
    )
    cfg.custom_imports['imports'] = list(cfg.custom_imports['imports']) + [
        'rank_dump_hook'
    ]
    cfg.custom_hooks.append(
        dict(type='DumpPrototypesHook', out_dir=str(tmp_path / 'ranks'))
    )
    config = tmp_path / 'primaps.py'
    cfg.dump(str(config))
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = str(sock.getsockname()[1])
    env = dict(
        os.environ,
        PORT=port,
        CUDA_VISIBLE_DEVICES='',
        PYTHONPATH=os.path.join(REPO_ROOT, 'tests'),
    )
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(config), '2'],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rank0 = torch.load(tmp_path / 'ranks' / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'ranks' / 'rank1.pth', weights_only=True)
    # 16 images over 2 ranks of batch 4: 2 iterations per epoch
    assert rank0['kmeans_iters'] == rank1['kmeans_iters'] == 2
    assert rank0['steps'] == rank1['steps'] == 8
    assert torch.equal(rank0['teacher'], rank1['teacher'])
    assert torch.equal(rank0['student'], rank1['student'])
