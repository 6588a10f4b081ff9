# Copyright (c) mmuss contributors. All rights reserved.
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPO_ROOT, demo_config
from mmengine.config import Config
from PIL import Image

from mmuss.datasets import Potsdam3Dataset, SyntheticScenesDataset
from mmuss.datasets.preparation import ConversionError, five_crop_dataset
from mmuss.datasets.transforms import five_crop_boxes


def test_crops_of_images_and_labels(tmp_path):
    root = tmp_path / 'scenes'
    dataset = SyntheticScenesDataset(
        data_root=str(root), num_train=3, num_val=1, image_size=40
    )
    assert five_crop_dataset(dataset, str(tmp_path / 'crops')) == 3
    crop_dir = tmp_path / 'crops' / 'images' / 'train'
    assert len(os.listdir(crop_dir)) == 15
    original = np.array(Image.open(root / 'annotations/train/00001.png'))
    for k, (top, left, h, w) in enumerate(five_crop_boxes(40, 40)):
        label = np.array(
            Image.open(tmp_path / f'crops/annotations/train/00001_crop{k}.png')
        )
        np.testing.assert_array_equal(
            label, original[top : top + h, left : left + w]
        )
    cropped = SyntheticScenesDataset(
        data_root=str(tmp_path / 'crops'), generate=False
    )
    assert len(cropped) == 15
    # resume: finished crops are not rewritten
    stamp = os.path.getmtime(crop_dir / '00000_crop0.png')
    five_crop_dataset(dataset, str(tmp_path / 'crops'))
    assert os.path.getmtime(crop_dir / '00000_crop0.png') == stamp


def test_potsdam_is_never_five_cropped(tmp_path):
    (tmp_path / 'img_dir' / 'train').mkdir(parents=True)
    Image.new('RGB', (4, 4)).save(tmp_path / 'img_dir/train/p.png')
    dataset = Potsdam3Dataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='img_dir/train')
    )
    with pytest.raises(ConversionError, match='never five-cropped'):
        five_crop_dataset(dataset, str(tmp_path / 'crops'))


def test_cli_on_a_config(tmp_path):
    config = tmp_path / 'demo.py'
    cfg = demo_config(tmp_path / 'work', tmp_path / 'data')
    cfg.dump(str(config))
    SyntheticScenesDataset(
        data_root=str(tmp_path / 'data'),
        num_train=16,
        num_val=8,
        image_size=64,
    )
    subprocess.run(
        [
            sys.executable,
            'tools/dataset_converters/five_crop.py',
            str(config),
            '--nproc',
            '2',
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    out = tmp_path / 'data' / 'five_crop_0.5' / 'images' / 'train'
    assert len(os.listdir(out)) == 16 * 5
    assert (
        Config.fromfile(str(config)).train_dataloader.dataset.type
        == 'SyntheticScenesDataset'
    )
