# Copyright (c) mmuss contributors. All rights reserved.
import os

import numpy as np
import pytest
from dataset_fixtures import write_city
from PIL import Image  # noqa: F401

from mmuss.datasets import Cityscapes27Dataset
from mmuss.datasets.preparation import (
    ConversionError,
    convert_cityscapes27,
    label_ids_to_27,
)


def test_label_ids_to_27():
    ids = np.array([0, 6, 7, 8, 26, 33, 255], np.uint8)
    np.testing.assert_array_equal(
        label_ids_to_27(ids), [255, 255, 0, 1, 19, 26, 255]
    )


def test_convert_and_load(tmp_path):
    label = np.full((16, 32), 7, np.uint8)  # road
    label[:, 16:] = 26  # car
    label[0] = 3  # out of roi
    write_city(tmp_path, 'train', 'aachen', 'aachen_000000_000019', label)
    write_city(tmp_path, 'val', 'bonn', 'bonn_000001_000019', label)
    assert convert_cityscapes27(str(tmp_path)) == dict(train=1, val=1)
    dataset = Cityscapes27Dataset(
        data_root=str(tmp_path),
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'
        ),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
    )
    labels = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert labels[0].unique().tolist() == [255]
    assert labels[1:, :16].unique().tolist() == [0]
    assert labels[1:, 16:].unique().tolist() == [19]


def test_resume_skips_finished_files(tmp_path):
    label = np.full((16, 32), 7, np.uint8)
    write_city(tmp_path, 'train', 'aachen', 'a_1', label)
    write_city(tmp_path, 'train', 'aachen', 'a_2', label)
    convert_cityscapes27(str(tmp_path), splits=('train',))
    done = tmp_path / 'gtFine/train/aachen/a_1_gtFine_labelTrainIds27.png'
    stamp = os.path.getmtime(done)
    (tmp_path / 'gtFine/train/aachen/a_2_gtFine_labelTrainIds27.png').unlink()
    convert_cityscapes27(str(tmp_path), splits=('train',))
    assert os.path.getmtime(done) == stamp
    assert (
        tmp_path / 'gtFine/train/aachen/a_2_gtFine_labelTrainIds27.png'
    ).is_file()
    leftovers = [
        f for f in os.listdir(tmp_path / 'gtFine/train/aachen') if 'tmp' in f
    ]
    assert leftovers == []


def test_missing_label_and_unknown_id(tmp_path):
    write_city(tmp_path, 'train', 'aachen', 'no_label', None)
    with pytest.raises(
        ConversionError, match='no_label_leftImg8bit.png has no label file'
    ):
        convert_cityscapes27(str(tmp_path), splits=('train',))
    label = np.full((16, 32), 40, np.uint8)
    write_city(tmp_path, 'train', 'aachen', 'no_label', label)
    with pytest.raises(ConversionError, match=r'unknown label ids \[40\]'):
        convert_cityscapes27(str(tmp_path), splits=('train',))
