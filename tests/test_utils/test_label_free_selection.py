# Copyright (c) mmuss contributors. All rights reserved.
import glob
import os.path as osp

import pytest
from helpers import demo_config
from mmengine.config import Config
from mmengine.runner import Runner

from mmuss.utils.label_free_selection import (
    apply_label_free_selection,
    discover_checkpoints,
)


def runtime_config(**extra):
    return Config(
        dict(
            model=dict(type='UnsupervisedEncoderDecoder', test_cfg=dict()),
            val_evaluator=dict(type='HungarianIoUMetric'),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook')),
            **extra,
        )
    )


def test_switch_off_leaves_the_config_alone():
    cfg = runtime_config()
    before = cfg.to_dict()
    assert apply_label_free_selection(cfg) is None
    assert cfg.to_dict() == before


def test_switch_adds_metric_outputs_and_save_best():
    cfg = runtime_config(label_free_selection='affinity')
    assert apply_label_free_selection(cfg) == 'label_free/affinity'
    assert [e['type'] for e in cfg.val_evaluator] == [
        'HungarianIoUMetric',
        'LabelFreeScoreMetric',
    ]
    assert cfg.default_hooks.checkpoint.save_best == 'label_free/affinity'
    assert cfg.default_hooks.checkpoint.rule == 'greater'
    # the head's loss runs only when it is the score
    assert cfg.model.test_cfg.selection == dict(objective=False)
    apply_label_free_selection(cfg, 'objective')
    assert cfg.model.test_cfg.selection == dict(objective=True)
    assert len(cfg.val_evaluator) == 2


def test_switch_refuses_unknown_scores_and_keys():
    with pytest.raises(ValueError, match='miou'):
        apply_label_free_selection(runtime_config(), 'miou')
    cfg = runtime_config(label_free_selection=dict(score='kmeans', rule=1))
    with pytest.raises(KeyError, match='rule'):
        apply_label_free_selection(cfg)


def test_discover_checkpoints_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='neither'):
        discover_checkpoints(str(tmp_path / 'nothing'))
    with pytest.raises(FileNotFoundError, match='exactly one dumped config'):
        discover_checkpoints(str(tmp_path))
    (tmp_path / 'a.py').write_text('')
    for name in ('iter_10.pth', 'iter_2.pth'):
        (tmp_path / name).write_bytes(b'')
    found = [osp.basename(c) for _, c in discover_checkpoints(str(tmp_path))]
    assert found == ['iter_2.pth', 'iter_10.pth']


def test_training_keeps_the_best_checkpoint_by_the_score(tmp_path):
    cfg = demo_config(
        tmp_path / 'work', tmp_path / 'data', max_iters=4, val_interval=2
    )
    cfg.label_free_selection = 'affinity'
    apply_label_free_selection(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = glob.glob(str(tmp_path / 'work' / 'best_label_free_affinity*.pth'))
    assert len(best) == 1
    scores = runner.message_hub.get_info('best_score')
    assert 0 <= scores <= 1


def test_checkpoints_without_a_later_extra_state_load(tmp_path):
    """A checkpoint saved before the model gained an extra state (the
    cluster mapping) loads; a missing weight is refused, naming it."""
    import pytest
    import torch
    from helpers import tiny_segmentor_cfg
    from mmseg.registry import MODELS

    from mmuss.utils.label_free_selection import load_model_checkpoint

    model = MODELS.build(tiny_segmentor_cfg())
    state = {
        k: v
        for k, v in model.state_dict().items()
        if not k.endswith('_extra_state')
    }
    old = tmp_path / 'old.pth'
    torch.save(dict(state_dict=state), old)
    fresh = MODELS.build(tiny_segmentor_cfg())
    load_model_checkpoint(fresh, str(old))
    key = 'linear_probe.classifier.weight'
    torch.testing.assert_close(fresh.state_dict()[key], state[key])
    state.pop(key)
    torch.save(dict(state_dict=state), tmp_path / 'broken.pth')
    with pytest.raises(ValueError, match='broken.pth.*linear_probe'):
        load_model_checkpoint(fresh, str(tmp_path / 'broken.pth'))
