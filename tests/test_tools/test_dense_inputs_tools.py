# Copyright (c) mmuss contributors. All rights reserved.
"""Offline tools on a config whose inputs carry a stacked dense map or
modality: they give the backbone the image channels only (KNN descriptors
come from the RGB image)."""

import os.path as osp

import numpy as np
import pytest
from dataset_fixtures import MFNET_SPLITS, mfnet_source
from helpers import (
    REPO_ROOT,
    demo_config,
    depth_demo_config,
    modality_demo_config,
    run_tool,
)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmuss.datasets.preparation import convert_mfnet
from mmuss.datasets.transforms import crop_array, five_crop_boxes


@pytest.mark.parametrize('stacked', [depth_demo_config, modality_demo_config])
def test_knn_lists_ignore_the_stacked_channels(tmp_path, stacked):
    data_root = tmp_path / 'data'
    with_stacked = stacked(tmp_path / 'work', data_root)
    plain = demo_config(tmp_path / 'work', data_root)
    outputs = []
    for name, cfg in (('stacked', with_stacked), ('plain', plain)):
        config = tmp_path / f'{name}.py'
        cfg.dump(str(config))
        out = tmp_path / f'{name}.npz'
        run_tool('precompute_knn.py', config, '--out', out, '--num-workers', 0)
        outputs.append(np.load(out))
    np.testing.assert_array_equal(outputs[0]['nns'], outputs[1]['nns'])
    assert outputs[0]['nns'].shape[0] == 16


def mfnet_tool_config(tmp_path):
    """The tiny demo model on MFNet converted from official-format files,
    loaded by the MFNet base config's pipelines (RGB + thermal)."""
    data_root = tmp_path / 'mfnet'
    mfnet_source(tmp_path / 'src')
    convert_mfnet(str(tmp_path / 'src'), str(data_root))
    cfg = demo_config(tmp_path / 'work', tmp_path / 'scenes')
    mfnet = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets/mfnet8.py')
    )
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader] = mfnet[loader]
        cfg[loader].update(num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = str(data_root)
    cfg.model.data_preprocessor.aux_channels = mfnet.modality_aux_channels
    config = tmp_path / 'mfnet.py'
    cfg.dump(str(config))
    return config, data_root


def test_five_crop_crops_the_modality_with_the_image(tmp_path):
    config, data_root = mfnet_tool_config(tmp_path)
    run_tool('dataset_converters/five_crop.py', config)
    crops = data_root / 'five_crop_0.5'
    boxes = five_crop_boxes(6, 8, 0.5)
    for name in MFNET_SPLITS['train']:
        thermal = np.array(
            Image.open(data_root / f'thermal/img_dir/all/{name}.png')
        )
        for k, box in enumerate(boxes):
            crop = crops / f'thermal/img_dir/all/{name}_crop{k}.png'
            np.testing.assert_array_equal(
                np.array(Image.open(crop)), crop_array(thermal, box)
            )
    init_default_scope('mmseg')
    mfnet = Config.fromfile(str(config))
    dataset_cfg = mfnet.train_dataloader.dataset
    pipeline = [t for t in dataset_cfg.pipeline if 'Resize' not in t.type]
    dataset = DATASETS.build(
        dict(dataset_cfg, data_root=str(crops), pipeline=pipeline)
    )
    assert len(dataset) == 5 * len(MFNET_SPLITS['train'])
    sample = dataset[7]  # crop 2 of the second image
    inputs = sample['inputs'].numpy()
    assert inputs.shape == (6, 3, 4)
    np.testing.assert_array_equal(inputs[3], inputs[5])  # replicated
    thermal = np.array(
        Image.open(crops / 'thermal/img_dir/all/00002N_crop2.png')
    )
    np.testing.assert_array_equal(inputs[4], thermal)


def test_knn_on_mfnet_describes_the_rgb_image_only(tmp_path):
    config, data_root = mfnet_tool_config(tmp_path)
    outputs = []
    for run in ('thermal', 'noise'):
        out = tmp_path / f'{run}.npz'
        run_tool(
            'precompute_knn.py', config, '--out', out, '--num-workers', 0,
            '--resolution', 64, '--topk', 3,
        )  # fmt: skip
        outputs.append(np.load(out))
        for path in (data_root / 'thermal/img_dir/all').iterdir():
            noise = np.random.default_rng(len(outputs)).integers(
                0, 256, (6, 8), np.uint8
            )
            Image.fromarray(noise).save(path)
    np.testing.assert_array_equal(outputs[0]['nns'], outputs[1]['nns'])
    assert list(outputs[0]['img_paths']) == [
        f'img_dir/all/{name}.png' for name in MFNET_SPLITS['train']
    ]
