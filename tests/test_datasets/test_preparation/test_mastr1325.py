# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from dataset_fixtures import write_mastr

from mmuss.datasets import MaSTr1325Dataset
from mmuss.datasets.preparation import (
    ConversionError,
    convert_mastr1325,
    mastr_mask_to_classes,
)


def test_mask_values():
    np.testing.assert_array_equal(
        mastr_mask_to_classes(np.array([0, 1, 2, 4])), [0, 1, 2, 255]
    )


def test_convert_split_and_load(tmp_path):
    names = [f'{i:04d}' for i in range(1, 11)]
    mask = np.zeros((9, 12), np.uint8)
    mask[:3] = 2
    mask[6:] = 1
    mask[5, 5] = 4
    write_mastr(tmp_path / 'src', names, [mask] * 10)
    counts = convert_mastr1325(str(tmp_path / 'src'), str(tmp_path / 'out'))
    assert counts == dict(all=10, train=8, val=2)
    train = (tmp_path / 'out/splits/train.txt').read_text().split()
    val = (tmp_path / 'out/splits/val.txt').read_text().split()
    assert sorted(train + val) == names and not set(train) & set(val)
    dataset = MaSTr1325Dataset(
        data_root=str(tmp_path / 'out'),
        ann_file='splits/val.txt',
        data_prefix=dict(img_path='img_dir/all', seg_map_path='ann_dir/all'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
    )
    assert len(dataset) == 2
    labels = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert labels[0, 0] == 2 and labels[8, 0] == 1 and labels[5, 5] == 255


def test_unknown_mask_value(tmp_path):
    write_mastr(tmp_path / 'src', ['0001'], [np.full((9, 12), 3, np.uint8)])
    with pytest.raises(
        ConversionError,
        match=r'0001m.png holds unknown '
        r'label ids \[3\]',
    ):
        convert_mastr1325(str(tmp_path / 'src'), str(tmp_path / 'out'))
