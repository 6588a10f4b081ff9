# Copyright (c) mmuss contributors. All rights reserved.
"""Every shipped config loads, builds its model and its pipelines."""

import glob
import os.path as osp

import pytest
import torch
from helpers import REPO_ROOT
from mmcv.transforms import Compose
from mmengine.config import Config
from mmseg.registry import DATASETS, METRICS, MODELS

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
    + glob.glob(osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
)
# configs/selfsup holds mmpretrain pretraining configs (their own tests)
LEAF_CONFIGS = [
    c for c in CONFIGS if '_base_' not in c and '/selfsup/' not in c
]


def config_id(path):
    return osp.relpath(path, REPO_ROOT)


def test_configs_are_found():
    assert len(LEAF_CONFIGS) >= 15


@pytest.mark.parametrize('path', LEAF_CONFIGS, ids=config_id)
def test_config_builds(path, monkeypatch):
    monkeypatch.syspath_prepend(REPO_ROOT)
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    assert 'mmuss' in cfg.custom_imports['imports']
    assert cfg.model.type == 'UnsupervisedEncoderDecoder'
    # No checkpoint selection on ground truth by default.
    assert 'save_best' not in cfg.default_hooks.get('checkpoint', {})
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    classes = DATASETS.get(cfg.val_dataloader.dataset.type).METAINFO['classes']
    assert model.num_classes == len(classes)
    assert model.num_clusters >= model.num_classes
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        while 'pipeline' not in dataset:  # dataset wrappers
            dataset = dataset.dataset
        Compose(dataset.pipeline)
    METRICS.build(cfg.val_evaluator)
    hook_types = {h['type'] for h in cfg.custom_hooks}
    assert {
        'ClassCountCheckHook',
        'CheckpointCheckHook',
        'NonFiniteCheckHook',
        'RandomStateHook',
    } <= hook_types
