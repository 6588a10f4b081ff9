# Copyright (c) mmuss contributors. All rights reserved.
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

import pytest
import torch
from helpers import REPO_ROOT, demo_config, run_tool
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import CheckpointLoader, Runner

from mmuss.models.utils.dino_checkpoint import read_dino_checkpoint
from mmuss.utils.checkpoint_safety import (
    UnsafeCheckpointError,
    history_buffer_statistic,
    safe_checkpoint_globals,
)

# --------------------------------------------------------------------------
# hostile checkpoints, assembled opcode by opcode (pickle protocol 2)


def _global(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def _text(value):
    data = value.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def _put(slot):
    return b'q' + bytes([slot])


def _get(slot):
    return b'h' + bytes([slot])


def _getattr(obj_ops, name, getattr_name='__builtin__'):
    return _global(getattr_name, 'getattr') + obj_ops + _text(name) + b'\x86R'


def _touch(canary):
    return _text(f'touch {canary}') + b'\x85R'


def classic_reduce(canary):
    """``os.system('touch canary')`` through ``__reduce__``."""
    return b'\x80\x02' + _global('posix', 'system') + _touch(canary) + b'.'


def allowlist_rewrite_chain(canary, getattr_name='__builtin__'):
    """The attack of the security report: with ``getattr`` allowlisted,
    walk from ``_rebuild_tensor_v2`` to torch's weights-only unpickler,
    replace its allowlist function by ``dict.copy`` of a dict holding
    ``os.system``, then call ``os.system``. Uses only ``getattr``,
    ``OrderedDict`` and ``_rebuild_tensor_v2`` as globals."""

    def attr(obj_ops, name):
        return _getattr(obj_ops, name, getattr_name)

    ops = b'\x80\x02'
    ops += _global('collections', 'OrderedDict') + b')R' + _put(0)
    ops += _get(0) + attr(
        _global('torch._utils', '_rebuild_tensor_v2'), '__globals__'
    )
    ops += b'b'  # od.__dict__.update(torch._utils globals)
    ops += attr(_get(0), 'torch') + _put(1)
    ops += attr(_get(1), '_weights_only_unpickler') + _put(2)
    ops += attr(_get(2), '__dict__') + _put(3)
    ops += attr(attr(_get(1), 'os'), 'system') + _put(4)
    ops += b'}' + _text('posix.system') + _get(4) + b's' + _put(5)
    ops += attr(_get(5), 'copy') + _put(6)
    ops += _get(3) + _text('_get_user_allowed_globals') + _get(6) + b's'
    ops += _get(4) + _touch(canary) + b'.'
    return ops


def attribute_walk(global_ops, attribute, canary):
    """``getattr(<allowlisted global>, attribute)`` then a system call."""
    return (
        b'\x80\x02'
        + _getattr(global_ops, attribute)
        + _global('posix', 'system')
        + _touch(canary)
        + b'.'
    )


def write_zip_checkpoint(path, pickle_bytes):
    """A file in torch.save's zip layout whose data.pkl is ``pickle_bytes``."""
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', pickle_bytes)
        z.writestr('archive/byteorder', 'little')
        z.writestr('archive/version', '3\n')


def allowlisted_globals():
    """(module, name) of every global our loads allow or torch allows by
    default (the attribute walks start from each)."""
    from torch._weights_only_unpickler import _get_allowed_globals

    names = set(_get_allowed_globals())
    for item in safe_checkpoint_globals():
        obj = item[0] if isinstance(item, tuple) else item
        names.add(f'{obj.__module__}.{obj.__qualname__}')
    pairs = []
    for full in sorted(names):
        module, _, name = full.rpartition('.')
        if module and '.' not in name:
            pairs.append((module, name))
    return pairs


# --------------------------------------------------------------------------


def test_nothing_is_added_to_torchs_process_wide_allowlist():
    allowed = torch.serialization.get_safe_globals()
    assert getattr not in allowed
    assert history_buffer_statistic not in allowed
    assert HistoryBuffer not in allowed
    assert not any(isinstance(item, tuple) for item in allowed)


def test_stand_in_returns_only_history_buffer_statistics():
    for name in ('min', 'max', 'mean', 'current'):
        assert history_buffer_statistic(HistoryBuffer, name) is getattr(
            HistoryBuffer, name
        )
    for owner, name in [
        (HistoryBuffer, '__init__'),
        (HistoryBuffer, '__class__'),
        (HistoryBuffer, 'update'),
        (torch, 'load'),
        (os, 'system'),
        ({}, 'copy'),
    ]:
        with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer'):
            history_buffer_statistic(owner, name)


def test_rewrite_chain_is_a_real_exploit_under_the_old_allowlist(tmp_path):
    # The payload is live: with the real getattr allowlisted process-wide
    # (what mmuss used to do) it runs os.system.
    path = tmp_path / 'evil.pth'
    write_zip_checkpoint(path, allowlist_rewrite_chain('canary'))
    script = (
        'import sys, torch\n'
        'from mmengine.logging.history_buffer import HistoryBuffer\n'
        'torch.serialization.add_safe_globals([getattr, HistoryBuffer])\n'
        'torch.load(sys.argv[1], weights_only=True)\n'
    )
    subprocess.run(
        [sys.executable, '-c', script, str(path)],
        cwd=tmp_path,
        capture_output=True,
    )
    assert (tmp_path / 'canary').exists()


@pytest.mark.parametrize('container', ['zip', 'raw'])
@pytest.mark.parametrize('getattr_name', ['__builtin__', 'builtins'])
def test_hostile_checkpoints_are_refused(
    tmp_path, monkeypatch, container, getattr_name
):
    monkeypatch.chdir(tmp_path)
    payloads = {
        'reduce': classic_reduce('canary'),
        'rewrite': allowlist_rewrite_chain('canary', getattr_name),
        'stand_in_self': attribute_walk(
            _global(getattr_name, 'getattr'), '__self__', 'canary'
        ),
    }
    for module, name in allowlisted_globals():
        for attribute in ('__globals__', '__dict__', '__init__', '__class__'):
            payloads[f'{module}.{name}.{attribute}'] = attribute_walk(
                _global(module, name), attribute, 'canary'
            )
    assert len(payloads) > 50
    for label, payload in payloads.items():
        path = tmp_path / 'evil.pth'
        if container == 'zip':
            write_zip_checkpoint(path, payload)
        else:
            path.write_bytes(payload)
        with pytest.raises(UnsafeCheckpointError, match='weights_only=True'):
            CheckpointLoader.load_checkpoint(str(path))
        assert not (tmp_path / 'canary').exists(), label


def test_hostile_checkpoint_as_backbone_weights(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / 'dino.pth'
    write_zip_checkpoint(evil, allowlist_rewrite_chain('canary'))
    with pytest.raises(UnsafeCheckpointError, match='weights_only=True'):
        read_dino_checkpoint(str(evil))
    assert not (tmp_path / 'canary').exists()


def test_hostile_checkpoint_in_a_resumed_work_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    work = tmp_path / 'work'
    work.mkdir()
    write_zip_checkpoint(work / 'iter_4.pth', allowlist_rewrite_chain('c'))
    cfg = demo_config(work, tmp_path / 'data', max_iters=6, val_interval=6)
    cfg.resume = True
    with pytest.raises(UnsafeCheckpointError, match='iter_4.pth'):
        Runner.from_cfg(cfg).train()
    assert not (tmp_path / 'c').exists()


def test_hostile_checkpoint_through_test_tool(tmp_path):
    evil = tmp_path / 'evil.pth'
    write_zip_checkpoint(evil, allowlist_rewrite_chain(str(tmp_path / 'c')))
    result = run_tool(
        'test.py',
        'configs/baseline/tiny-vit_synthetic.py',
        evil,
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        f'test_dataloader.dataset.data_root={tmp_path / "data"}',
        'test_dataloader.dataset.num_train=4',
        'test_dataloader.dataset.num_val=2',
        'test_dataloader.dataset.image_size=32',
        check=False,
    )
    assert result.returncode != 0
    assert 'cannot load checkpoint' in result.stderr
    assert str(evil) in result.stderr
    assert not (tmp_path / 'c').exists()


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A demo model trained for 4 iterations, checkpointed every 2."""
    root = tmp_path_factory.mktemp('ckpt')
    cfg = demo_config(
        root / 'work', root / 'data', max_iters=4, val_interval=2
    )
    Runner.from_cfg(cfg).train()
    return root


def test_runner_checkpoint_needs_exactly_the_scoped_allowlist(trained):
    path = str(trained / 'work' / 'iter_4.pth')
    # In a fresh interpreter without mmuss: what torch refuses.
    script = (
        'import json, sys, torch\n'
        'print(json.dumps(sorted(torch.serialization.'
        'get_unsafe_globals_in_checkpoint(sys.argv[1]))))\n'
        'torch.load(sys.argv[1], weights_only=True)\n'
    )
    plain = subprocess.run(
        [sys.executable, '-c', script, path],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert plain.returncode != 0
    assert 'Weights only load failed' in plain.stderr
    unsafe = set(json.loads(plain.stdout.splitlines()[0]))
    allowed = set()
    for item in safe_checkpoint_globals():
        if isinstance(item, tuple):
            allowed.add(item[1])
        else:
            allowed.add(f'{item.__module__}.{item.__qualname__}')
    assert 'builtins.getattr' in unsafe and unsafe <= allowed
    # mmuss does not weaken plain torch.load in this process either ...
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    # ... but its own loader reads the checkpoint
    checkpoint = CheckpointLoader.load_checkpoint(path)
    assert checkpoint['meta']['iter'] == 4
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.statistics('mean') == pytest.approx(buffer.mean())


def test_resume_then_test_from_checkpoint(trained):
    cfg = demo_config(
        trained / 'work', trained / 'data', max_iters=6, val_interval=2
    )
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 6
    log = sorted((trained / 'work').glob('*/*.log'))[-1].read_text()
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [1/6]' not in log
    assert os.path.isfile(trained / 'work' / 'iter_6.pth')
    resumed = CheckpointLoader.load_checkpoint(
        str(trained / 'work' / 'iter_6.pth')
    )
    assert resumed['meta']['iter'] == 6

    test_cfg = demo_config(trained / 'test', trained / 'data')
    test_cfg.load_from = str(trained / 'work' / 'iter_6.pth')
    metrics = Runner.from_cfg(test_cfg).test()
    assert 0 <= metrics['mIoU'] <= 100 and 0 <= metrics['aAcc'] <= 100
    assert metrics['linear_aAcc'] > 0
