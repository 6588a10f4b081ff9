# Copyright (c) mmuss contributors. All rights reserved.
"""End-to-end runs of tools/train.py, tools/test.py and the dist scripts."""

import json
import os
import socket
import subprocess
import sys

import pytest
from helpers import REPO_ROOT, demo_config


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


def run(command, **env):
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        # CPU only, so the runs are the same on machines with a GPU
        env={
            **os.environ,
            'PORT': free_port(),
            'CUDA_VISIBLE_DEVICES': '',
            **env,
        },
        timeout=900,
    )
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:]
    )
    return result


def hungarian_report(folder):
    with open(os.path.join(folder, 'hungarian_metrics.json')) as file:
        return json.load(file)


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """A shrunk demo config on disk and its 1-process training run."""
    root = tmp_path_factory.mktemp('tools')
    config = root / 'demo.py'
    demo_config(
        root / 'work', root / 'data', max_iters=8, val_interval=8
    ).dump(str(config))
    run(
        [
            sys.executable,
            'tools/train.py',
            str(config),
            '--work-dir',
            str(root / 'work'),
        ]
    )
    return root, config


def test_train_writes_checkpoint_metrics_and_pictures(demo):
    root, _ = demo
    assert (root / 'work' / 'iter_8.pth').is_file()
    report = hungarian_report(root / 'work' / 'val_results')
    assert set(report['metrics']) >= {'mIoU', 'aAcc', 'linear_mIoU'}
    assert sorted(report['assignment']) == list(range(11))
    pictures = os.listdir(root / 'work' / 'val_results' / 'vis')
    assert len(pictures) == 8


def test_one_and_two_process_evaluation_agree(demo):
    root, config = demo
    checkpoint = str(root / 'work' / 'iter_8.pth')
    run(
        [
            sys.executable,
            'tools/test.py',
            str(config),
            checkpoint,
            '--work-dir',
            str(root / 'test1'),
        ]
    )
    run(
        [
            'bash',
            'tools/dist_test.sh',
            str(config),
            checkpoint,
            '2',
            '--work-dir',
            str(root / 'test2'),
        ]
    )
    single = hungarian_report(root / 'test1' / 'test_results')
    double = hungarian_report(root / 'test2' / 'test_results')
    assert single['metrics'] == double['metrics']
    assert single['confusion_matrix'] == double['confusion_matrix']
    assert single['assignment'] == double['assignment']


def test_two_process_training(demo):
    root, config = demo
    result = run(
        [
            'bash',
            'tools/dist_train.sh',
            str(config),
            '2',
            '--work-dir',
            str(root / 'dist'),
        ]
    )
    assert (root / 'dist' / 'iter_8.pth').is_file()
    # the effective batch is said aloud
    assert '4 images per process x 2 process(es) = 8 images per step' in (
        result.stdout + result.stderr
    )
    log = next((root / 'dist').glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log
    assert "dist_cfg: {'backend': 'gloo'}" in log
    report = hungarian_report(root / 'dist' / 'val_results')
    assert 0 <= report['metrics']['mIoU'] <= 100
