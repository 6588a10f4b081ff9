# Copyright (c) mmuss contributors. All rights reserved.
"""The multi-modal datasets load converted official-format data through
their base configs, every modality stacked onto the RGB image."""

import os.path as osp

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image
from test_preparation.test_mcubes import mcubes_source
from test_preparation.test_mfnet import mfnet_source
from test_preparation.test_nyu_depth_v2 import nyu_source

from mmuss.datasets.preparation import (
    convert_mcubes,
    convert_mfnet,
    convert_nyu_depth_v2,
)

# config, source writer, converter, test-split sample, its label's values
CASES = dict(
    nyu_depth_v2_13=(nyu_source, convert_nyu_depth_v2, '0003'),
    mfnet8=(mfnet_source, convert_mfnet, '00004N'),
    mcubes20=(mcubes_source, convert_mcubes, 'c_0001'),
)


def converted(name, tmp_path):
    write, convert, _ = CASES[name]
    write(tmp_path / 'src')
    convert(str(tmp_path / 'src'), str(tmp_path / 'data'))
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', f'{name}.py')
    )
    cfg.val_dataloader.dataset.data_root = str(tmp_path / 'data')
    return cfg


@pytest.mark.parametrize('name', sorted(CASES))
def test_sample_stacks_every_modality(name, tmp_path):
    init_default_scope('mmseg')
    cfg = converted(name, tmp_path)
    dataset_cfg = cfg.val_dataloader.dataset
    exact = [t for t in dataset_cfg.pipeline if t.type != 'ResizeCenterCrop']
    dataset = DATASETS.build(dict(dataset_cfg, pipeline=exact))
    sample_name = CASES[name][2]
    assert len(dataset) == 1
    data = dataset[0]
    modalities = [t.name for t in cfg.load_modalities]
    inputs = data['inputs'].numpy()
    assert inputs.shape[0] == 3 + 3 * len(modalities)
    assert [n for n, _ in data['data_samples'].aux_channels] == modalities
    root = tmp_path / 'data'
    rgb = np.array(Image.open(root / f'img_dir/all/{sample_name}.png'))
    np.testing.assert_array_equal(
        inputs[:3], rgb[..., ::-1].transpose(2, 0, 1)
    )
    for index, modality in enumerate(modalities):
        stored = np.array(
            Image.open(root / modality / f'img_dir/all/{sample_name}.png')
        )
        if stored.ndim == 2:  # replicated
            stored = np.repeat(stored[..., None], 3, axis=2)
        channels = inputs[3 + 3 * index : 6 + 3 * index]
        np.testing.assert_array_equal(
            channels, stored[..., ::-1].transpose(2, 0, 1)
        )
    label = np.array(Image.open(root / f'ann_dir/all/{sample_name}.png'))
    np.testing.assert_array_equal(
        data['data_samples'].gt_sem_seg.data[0].numpy(), label
    )


@pytest.mark.parametrize('name', sorted(CASES))
def test_config_pipeline_and_preprocessor(name, tmp_path):
    init_default_scope('mmseg')
    cfg = converted(name, tmp_path)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    preprocessor = MODELS.build(
        dict(
            type='USSDataPreProcessor',
            mean=cfg.imagenet_mean,
            std=cfg.imagenet_std,
            bgr_to_rgb=True,
            aux_channels=cfg.modality_aux_channels,
        )
    )
    batch = preprocessor(pseudo_collate([dataset[0]]))
    inputs = preprocessor.split(batch['inputs'])
    assert list(inputs) == ['image'] + preprocessor.modalities
    for values in inputs.values():
        assert values.shape == (1, 3, 320, 320)
        assert torch.isfinite(values).all()
    classes = len(dataset.metainfo['classes'])
    labels = batch['data_samples'][0].gt_sem_seg.data
    assert labels.shape[-2:] == (320, 320)
    assert set(labels.unique().tolist()) <= set(range(classes)) | {255}
