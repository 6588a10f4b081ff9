# Copyright (c) mmuss contributors. All rights reserved.
"""CheckpointCheckHook: checkpoints that do not fit the model are refused;
--resume falls back to the newest readable checkpoint; saves are atomic."""

import os

import pytest
from helpers import demo_config, run_tool
from mmengine.fileio import get_file_backend
from mmengine.runner import Runner

from mmuss.engine.hooks import (
    CheckpointMismatchError,
    find_resumable_checkpoint,
    is_readable_checkpoint,
)
from mmuss.engine.hooks.checkpoint_check_hook import compare_state_keys
from mmuss.utils.atomic_io import AtomicLocalBackend


@pytest.fixture(scope='module')
def baseline(tmp_path_factory):
    """The demo baseline trained 4 steps, checkpoints at 2 and 4."""
    root = tmp_path_factory.mktemp('baseline')
    Runner.from_cfg(
        demo_config(root / 'work', root / 'data', max_iters=4, val_interval=2)
    ).train()
    return root


def test_compare_state_keys():
    missing, extra, unexpected = compare_state_keys(
        ['a.w', 'b.w', 'p._extra_state'], ['a.w', 'c.w']
    )
    assert missing == ['b.w']
    assert extra == ['p._extra_state']
    assert unexpected == ['c.w']


def stego_test_config(root, checkpoint):
    cfg = demo_config(root / 'stego', root / 'data')
    cfg.model.decode_head = dict(type='StegoHead', in_channels=96, channels=16)
    cfg.load_from = str(checkpoint)
    return cfg


def test_mismatched_checkpoint_is_refused_with_the_keys(baseline):
    cfg = stego_test_config(baseline, baseline / 'work' / 'iter_4.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        Runner.from_cfg(cfg).test()
    message = str(info.value)
    assert 'missing keys' in message and 'decode_head.' in message
    assert '--allow-key-mismatch' in message
    # explicitly relaxed: a warning, the evaluation runs
    for hook in cfg.custom_hooks:
        if hook['type'] == 'CheckpointCheckHook':
            hook['strict_keys'] = False
    metrics = Runner.from_cfg(cfg).test()
    assert 0 <= metrics['mIoU'] <= 100


def test_test_tool_refuses_a_checkpoint_of_another_method(baseline, tmp_path):
    config = tmp_path / 'stego.py'
    stego_test_config(baseline, '').dump(str(config))
    checkpoint = baseline / 'work' / 'iter_4.pth'
    args = ['test.py', config, checkpoint, '--work-dir', tmp_path / 't']
    result = run_tool(*args, check=False)
    assert result.returncode != 0
    assert 'CheckpointMismatchError' in result.stderr
    assert 'decode_head.' in result.stderr
    run_tool(*args, '--allow-key-mismatch')


def test_checkpoint_writes_are_atomic(tmp_path):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    target = tmp_path / 'x.pth'
    backend.put(b'old', target)

    class Boom(bytes):
        pass

    # a writer that dies half-way leaves the previous file intact
    original_write = open

    def failing_open(path, mode='r', *args, **kwargs):
        handle = original_write(path, mode, *args, **kwargs)
        if 'w' in mode and str(path).endswith('.tmp.pth'):
            handle.write(b'partial')
            handle.close()
            raise OSError('disk full')
        return handle

    import builtins

    builtins.open, saved = failing_open, builtins.open
    try:
        with pytest.raises(OSError, match='disk full'):
            backend.put(b'new checkpoint', target)
    finally:
        builtins.open = saved
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['x.pth']  # no temporary left behind


def copy_work_dir(source, target):
    target.mkdir()
    for name in ('iter_2.pth', 'iter_4.pth', 'last_checkpoint'):
        data = (source / name).read_bytes()
        if name == 'last_checkpoint':
            data = data.replace(str(source).encode(), str(target).encode())
        (target / name).write_bytes(data)


def test_resume_skips_a_torn_checkpoint(baseline, tmp_path):
    work = tmp_path / 'work'
    copy_work_dir(baseline / 'work', work)
    with open(work / 'iter_4.pth', 'r+b') as file:  # killed while saving
        file.truncate(os.path.getsize(work / 'iter_4.pth') // 2)
    assert not is_readable_checkpoint(str(work / 'iter_4.pth'))
    assert is_readable_checkpoint(str(work / 'iter_2.pth'))
    cfg = demo_config(work, baseline / 'data', max_iters=6, val_interval=6)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    log = next(work.glob('*/*.log')).read_text()
    assert f'skipping checkpoint {work / "iter_4.pth"}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert runner.iter == 6


def test_resume_without_last_checkpoint_uses_newest(baseline, tmp_path):
    work = tmp_path / 'work'
    copy_work_dir(baseline / 'work', work)
    (work / 'last_checkpoint').unlink()
    assert find_resumable_checkpoint(str(work)) == str(work / 'iter_4.pth')
    cfg = demo_config(work, baseline / 'data', max_iters=6, val_interval=6)
    cfg.resume = True
    Runner.from_cfg(cfg).train()
    log = next(work.glob('*/*.log')).read_text()
    assert 'resumed epoch: 0, iter: 4' in log


def test_resume_with_nothing_to_resume_says_so(baseline, tmp_path):
    cfg = demo_config(
        tmp_path / 'work', baseline / 'data', max_iters=2, val_interval=2
    )
    cfg.resume = True
    Runner.from_cfg(cfg).train()
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert (
        'holds no readable checkpoint; training starts from iteration 0' in log
    )
