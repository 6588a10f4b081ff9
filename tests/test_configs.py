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


# Sibling configs: every other backbone of a method and dataset inherits the
# DINO ViT-S/8 leaf (``_base_ = './dino_vits8_<dataset>.py'``) and overrides
# only the backbone (that of its ``_base_/models`` file), the head width and
# what depends on them; the head block itself is inherited.
MODEL_BASES = {
    'dino_vitb8': 'uss_dino_vitb8.py',
    'dinov2_vits14': 'uss_dinov2_vits14.py',
    'dinov2_vitb14': 'uss_dinov2_vitb14.py',
}
EVAL_PIPELINES = {
    'test_pipeline',
    'val_dataloader.dataset.pipeline',
    'test_dataloader.dataset.pipeline',
}
SIBLING_FAMILIES = {
    # method: (datasets, head type, keys a sibling may change)
    'stego': (
        ('cocostuff27', 'cityscapes27', 'potsdam3'),
        'StegoHead',
        {
            'model.decode_head.in_channels',
            'model.decode_head.loss_corr.',
            'train_dataloader.dataset.knn_file',
        },
    ),
    'primaps': (
        ('cocostuff', 'cityscapes', 'potsdam'),
        'PrimapsHead',
        {
            'model.decode_head.in_channels',
            'model.data_preprocessor.size',
            'crop_size',
            'mask_dir',
            'train_pipeline',
            'train_dataloader.dataset.pipeline',
        },
    ),
}
SIBLINGS = [
    (method, backbone, dataset)
    for method, (datasets, _, _) in SIBLING_FAMILIES.items()
    for backbone in MODEL_BASES
    for dataset in datasets
]


def flatten(cfg, prefix=''):
    """Dotted key -> value of a config dict (lists are values)."""
    flat = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


@pytest.mark.parametrize(
    'method,backbone,dataset',
    SIBLINGS,
    ids=[f'{m}/{b}_{d}' for m, b, d in SIBLINGS],
)
def test_sibling_config_inherits_vits8_leaf(method, backbone, dataset):
    datasets, head_type, allowed = SIBLING_FAMILIES[method]
    folder = osp.join(REPO_ROOT, 'configs', method)
    path = osp.join(folder, f'{backbone}_{dataset}.py')
    leaf_path = osp.join(folder, f'dino_vits8_{dataset}.py')
    with open(path) as f:
        text = f.read()
    assert f"_base_ = './dino_vits8_{dataset}.py'" in text
    assert head_type not in text  # the head block is inherited
    cfg, leaf = Config.fromfile(path), Config.fromfile(leaf_path)
    model_base = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs', '_base_', 'models', MODEL_BASES[backbone]
        )
    )
    # the backbone and head width of the matching model base
    assert cfg.model.backbone == model_base.model.backbone
    assert (
        cfg.model.decode_head.in_channels
        == model_base.model.decode_head.in_channels
    )
    assert cfg.model.decode_head.type == head_type
    # nothing else differs from the leaf
    flat, flat_leaf = flatten(cfg.to_dict()), flatten(leaf.to_dict())
    changed = {
        k
        for k in flat.keys() | flat_leaf.keys()
        if flat.get(k, KeyError) != flat_leaf.get(k, KeyError)
    }
    allowed = allowed | {'model.backbone.'}
    if backbone.endswith('14'):
        allowed = allowed | EVAL_PIPELINES
    unexpected = {
        k
        for k in changed
        if k not in allowed
        and not any(k.startswith(a) for a in allowed if a.endswith('.'))
    }
    assert not unexpected, unexpected
