# Copyright (c) mmuss contributors. All rights reserved.
"""Checkpoints saved before PriMaPs' prototypes moved into EMAPrototypes
load through every loading path: the runner's key check, the label-free
evaluation and a plain load_state_dict."""

import pytest
import torch
from helpers import tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.engine.hooks.checkpoint_check_hook import CheckpointCheckHook
from mmuss.models.utils import rename_legacy_keys, upgrade_legacy_state
from mmuss.utils.label_free_selection import load_model_checkpoint

LEGACY = {
    'student': 'decode_head.prototypes.student',
    'teacher': 'decode_head.prototypes.teacher',
    'ema_updates': 'decode_head.prototypes.updates',
}


def primaps_model():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(type='PrimapsHead', in_channels=32, num_prototypes=3)
    )
    return MODELS.build(cfg)


def legacy_state(model):
    state = dict(model.state_dict())
    for old, new in LEGACY.items():
        state['decode_head.' + old] = state.pop(new)
    return state


def test_rename_legacy_keys_hand_case():
    state = {'a.old': 1, 'a.kept': 2, 'b.old': 3, 'b.new': 4}
    rename_legacy_keys(state, 'a.', {'old': 'new'})
    rename_legacy_keys(state, 'b.', {'old': 'new'})  # new present: kept
    assert state == {'a.new': 1, 'a.kept': 2, 'b.old': 3, 'b.new': 4}


def test_upgrade_names_every_declaring_module():
    model = primaps_model()
    state = upgrade_legacy_state(model, legacy_state(model))
    assert set(state) == set(model.state_dict())


def test_legacy_checkpoints_load_in_every_path(tmp_path):
    source = primaps_model()
    source.decode_head.prototypes.student.data.normal_()
    state = legacy_state(source)
    path = tmp_path / 'legacy.pth'
    torch.save(dict(state_dict=state), path)
    key = 'decode_head.prototypes.student'
    expected = source.state_dict()[key]

    evaluated = primaps_model()
    load_model_checkpoint(evaluated, str(path))
    torch.testing.assert_close(evaluated.state_dict()[key], expected)

    plain = primaps_model()
    plain.load_state_dict(dict(state))
    torch.testing.assert_close(plain.state_dict()[key], expected)

    class FakeRunner:
        model = primaps_model()

    CheckpointCheckHook().after_load_checkpoint(
        FakeRunner, dict(state_dict=dict(state))
    )
    state.pop('decode_head.student')
    with pytest.raises(Exception, match='prototypes.student'):
        CheckpointCheckHook().after_load_checkpoint(
            FakeRunner, dict(state_dict=state)
        )
