# Copyright (c) mmuss contributors. All rights reserved.
"""RandomStateHook: kill + resume gives the uninterrupted run exactly;
validation does not change the training's random draws."""

import random

import numpy as np
import pytest
import torch
from helpers import demo_config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmuss.utils.random_state import (
    capture_random_states,
    preserved_random_states,
    restore_random_states,
)


class KilledError(Exception):
    pass


class KillAfter(Hook):
    """Stops the run after step ``step``'s checkpoint is written, as a
    kill would (before the validation of that step)."""

    def __init__(self, step):
        self.step = step

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        if runner.iter + 1 == self.step:
            raise KilledError()


def random_config(work_dir, data_root, val_interval=4, random_hook=True):
    """8 steps of a SmooSeg head (dropout) with a cluster probe that
    re-seeds from its seed bank at step 6 and re-seeds dead centres every
    2 steps; random flips in the main process (no workers)."""
    cfg = demo_config(work_dir, data_root, max_iters=8, val_interval=4)
    cfg.train_cfg.val_interval = val_interval
    cfg.model.decode_head = dict(
        type='SmooSegHead', in_channels=96, num_prototypes=6, channels=16
    )
    cfg.model.cluster_probe.update(
        reset_steps=[6],
        reseed_interval=2,
        seed_bank_size=2048,
        seed_points_per_step=512,
    )
    if not random_hook:
        cfg.custom_hooks = [
            h for h in cfg.custom_hooks if h['type'] != 'RandomStateHook'
        ]
    return cfg


def final_state(runner):
    return {
        key: value.clone()
        for key, value in runner.model.state_dict().items()
        if isinstance(value, torch.Tensor)
    }


def train(cfg, kill_at=None, resume=False):
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    if kill_at is not None:
        runner.register_hook(KillAfter(kill_at), priority='LOWEST')
        with pytest.raises(KilledError):
            runner.train()
        return runner
    runner.train()
    metrics = runner.message_hub.get_scalar('val/mIoU').current()
    return runner, metrics


def assert_same_state(first, second):
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_capture_and_restore_roundtrip():
    states = capture_random_states()
    expected = (random.random(), np.random.rand(), torch.rand(3))
    restore_random_states(states)
    again = (random.random(), np.random.rand(), torch.rand(3))
    assert expected[:2] == again[:2]
    assert torch.equal(expected[2], again[2])


def test_preserved_random_states_fences_a_block():
    before = capture_random_states()
    with preserved_random_states():
        torch.rand(10), np.random.rand(10), random.random()
    after = capture_random_states()
    assert torch.equal(before['torch'], after['torch'])
    assert torch.equal(before['numpy']['key'], after['numpy']['key'])
    assert before['numpy']['position'] == after['numpy']['position']
    assert torch.equal(
        before['python']['internal'], after['python']['internal']
    )


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp('rng')
    runner, metrics = train(random_config(root / 'full', root / 'data'))
    return root, final_state(runner), metrics


def test_kill_and_resume_is_exact(uninterrupted):
    root, expected_state, expected_metrics = uninterrupted
    work = root / 'killed'
    train(random_config(work, root / 'data'), kill_at=4)
    assert (work / 'iter_4.pth').is_file()
    runner, metrics = train(random_config(work, root / 'data'), resume=True)
    assert runner.iter == 8
    assert metrics == expected_metrics
    assert_same_state(final_state(runner), expected_state)
    # the seed bank travelled with the checkpoint
    assert runner.model.cluster_probe._seed_bank


def test_without_the_hook_resume_diverges(uninterrupted):
    # The same kill + resume without RandomStateHook does not reproduce the
    # uninterrupted run (so the exactness above is the hook's doing).
    root, expected_state, _ = uninterrupted
    work = root / 'no_hook'
    train(random_config(work, root / 'data', random_hook=False), kill_at=4)
    runner, _ = train(
        random_config(work, root / 'data', random_hook=False), resume=True
    )
    state = final_state(runner)
    assert any(not torch.equal(state[k], expected_state[k]) for k in state)


def test_validation_does_not_change_training(uninterrupted):
    root, expected_state, _ = uninterrupted
    runner, _ = train(
        random_config(root / 'often', root / 'data', val_interval=2)
    )
    assert_same_state(final_state(runner), expected_state)
    # unfenced, the extra validations draw from the generators
    cfg = random_config(root / 'unfenced', root / 'data', val_interval=2)
    for hook in cfg.custom_hooks:
        if hook['type'] == 'RandomStateHook':
            hook['fence_validation'] = False
    runner, _ = train(cfg)
    state = final_state(runner)
    assert any(not torch.equal(state[k], expected_state[k]) for k in state)
