# Copyright (c) mmuss contributors. All rights reserved.
"""NonFiniteCheckHook: a diverging run stops (or skips the step) with a
message naming the loss term and the step; evaluation refuses NaN codes."""

import math

import pytest
import torch
from helpers import demo_config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import MODELS
from torch import nn

from mmuss.engine.hooks import NonFiniteCheckHook, NonFiniteError
from mmuss.engine.hooks.non_finite_check_hook import non_finite_entries
from mmuss.models.decode_heads import BaseCodeHead


@MODELS.register_module()
class NanLossAtStepHead(BaseCodeHead):
    """A 1x1 conv head whose loss ``loss_probe_nan`` turns NaN at the
    configured training steps (1-based)."""

    def __init__(self, in_channels, nan_steps=(3,), **kwargs):
        super().__init__(in_channels=in_channels, channels=8, **kwargs)
        self.conv = nn.Conv2d(in_channels, 8, 1)
        self.nan_steps = set(nan_steps)
        self.calls = 0

    def forward(self, inputs):
        return self.conv(self._transform_inputs(inputs))

    def loss_by_codes(self, codes, head_inputs):
        self.calls += 1
        loss = codes.pow(2).mean()
        if self.calls in self.nan_steps:
            loss = loss * math.nan
        return {'loss_probe_nan': loss}


def nan_config(tmp_path, nan_steps=(3,), max_iters=6):
    cfg = demo_config(
        tmp_path / 'work',
        tmp_path / 'data',
        max_iters=max_iters,
        val_interval=max_iters,
    )
    cfg.model.decode_head = dict(
        type='NanLossAtStepHead', in_channels=96, nan_steps=nan_steps
    )
    return cfg


def test_non_finite_entries_names_tensors():
    tensors = {
        'a': torch.ones(3),
        'b': torch.tensor([1.0, math.inf]),
        'c': torch.tensor(math.nan),
        'd': torch.tensor([1, 2]),  # integers are never non-finite
    }
    assert non_finite_entries(tensors) == ['b', 'c']
    assert non_finite_entries({}) == []


def test_policy_is_checked():
    with pytest.raises(ValueError, match='policy'):
        NonFiniteCheckHook(policy='ignore')


def test_nan_loss_stops_training_naming_term_and_step(tmp_path):
    runner = Runner.from_cfg(nan_config(tmp_path))
    with pytest.raises(NonFiniteError) as info:
        runner.train()
    message = str(info.value)
    assert 'training step 3' in message
    assert 'decode.loss_probe_nan=nan' in message
    assert 'decode_head.conv.weight' in message
    # stopped before the step: weights finite, nothing saved
    head = runner.model.decode_head
    assert all(torch.isfinite(p).all() for p in head.parameters())
    assert not list((tmp_path / 'work').glob('*.pth'))


def test_skip_policy_skips_the_step_and_finishes(tmp_path):
    cfg = nan_config(tmp_path, nan_steps=(3, 4))
    for hook in cfg.custom_hooks:
        if hook['type'] == 'NonFiniteCheckHook':
            hook['policy'] = 'skip'
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, NonFiniteCheckHook))
    assert hook.skipped_steps == 2
    head = runner.model.decode_head
    assert all(torch.isfinite(p).all() for p in head.parameters())
    # a skipped step changes neither the weights nor Adam's step counts
    optimizer = runner.optim_wrapper.optimizer
    steps = {int(s['step']) for s in optimizer.state.values()}
    assert steps == {6 - 2}
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert 'step skipped' in log and 'training step 3' in log


def test_non_finite_weights_stop_training(tmp_path):
    cfg = nan_config(tmp_path, nan_steps=())
    runner = Runner.from_cfg(cfg)

    class Poison(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch, outputs):
            if runner.iter == 1:  # during step 2, e.g. a diverged EMA
                runner.model.cluster_probe.clusters.data[0, 0] = math.inf

    runner.register_hook(Poison(), priority='NORMAL')
    with pytest.raises(NonFiniteError, match='after training step 2') as info:
        runner.train()
    assert 'cluster_probe.clusters' in str(info.value)


def test_evaluation_refuses_non_finite_codes(tmp_path):
    cfg = nan_config(tmp_path, nan_steps=())
    runner = Runner.from_cfg(cfg)
    runner.model.decode_head.conv.bias.data[0] = math.nan
    with pytest.raises(FloatingPointError, match='non-finite codes') as info:
        runner.val()
    assert '.png' in str(info.value)
