# Copyright (c) mmuss contributors. All rights reserved.
import json
import os
import pickle
import subprocess
import sys

import pytest
import torch
from helpers import demo_config
from mmengine.runner import CheckpointLoader, Runner

from mmuss.utils.checkpoint_safety import safe_checkpoint_globals


def qualified_names(types):
    return {f'{t.__module__}.{t.__qualname__}' for t in types}


def test_allowlist_is_registered_with_torch():
    allowed = set(torch.serialization.get_safe_globals())
    assert set(safe_checkpoint_globals()) <= allowed


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A demo model trained for 4 iterations, checkpointed every 2."""
    root = tmp_path_factory.mktemp('ckpt')
    cfg = demo_config(
        root / 'work', root / 'data', max_iters=4, val_interval=2
    )
    Runner.from_cfg(cfg).train()
    return root


def test_runner_checkpoint_needs_exactly_the_allowlist(trained):
    path = str(trained / 'work' / 'iter_4.pth')
    # In a fresh interpreter without mmuss: what torch refuses, and that
    # loading fails.
    script = (
        'import json, sys, torch\n'
        'print(json.dumps(sorted(torch.serialization.'
        'get_unsafe_globals_in_checkpoint(sys.argv[1]))))\n'
        'torch.load(sys.argv[1], weights_only=True)\n'
    )
    plain = subprocess.run(
        [sys.executable, '-c', script, path], capture_output=True, text=True
    )
    assert plain.returncode != 0
    assert 'Weights only load failed' in plain.stderr
    unsafe = set(json.loads(plain.stdout.splitlines()[0]))
    allowlisted = qualified_names(safe_checkpoint_globals())
    assert unsafe and unsafe <= allowlisted
    # with mmuss imported (this process) nothing is left unsafe
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    assert torch.load(path, weights_only=True)['meta']['iter'] == 4


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
    resumed = torch.load(trained / 'work' / 'iter_6.pth', weights_only=True)
    assert resumed['meta']['iter'] == 6

    test_cfg = demo_config(trained / 'test', trained / 'data')
    test_cfg.load_from = str(trained / 'work' / 'iter_6.pth')
    metrics = Runner.from_cfg(test_cfg).test()
    assert 0 <= metrics['mIoU'] <= 100 and 0 <= metrics['aAcc'] <= 100
    assert metrics['linear_aAcc'] > 0


class Exploit:
    """Pickles into a call of os.system."""

    def __reduce__(self):
        return (os.system, ('touch exploited',))


def test_malicious_checkpoint_is_refused(tmp_path, monkeypatch):
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as file:
        pickle.dump({'state_dict': Exploit()}, file)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match='weights_only=True'):
        CheckpointLoader.load_checkpoint(str(path))
    assert not (tmp_path / 'exploited').exists()


def test_allowlisted_getattr_cannot_call_what_it_reads(tmp_path):
    # getattr(HistoryBuffer, '__init__')() must be refused: the unpickler
    # only calls allowlisted callables.
    payload = (
        b'\x80\x02c__builtin__\ngetattr\n'
        b'cmmengine.logging.history_buffer\nHistoryBuffer\n'
        b'X\x08\x00\x00\x00__init__\x86R)R.'
    )
    path = tmp_path / 'call.pth'
    path.write_bytes(payload)
    with pytest.raises(RuntimeError, match='unrecognized function'):
        CheckpointLoader.load_checkpoint(str(path))
