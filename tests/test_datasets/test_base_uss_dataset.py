# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from PIL import Image

from mmuss.datasets import BaseUSSDataset, SampleLoadError

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def write_dataset(root, labels):
    (root / 'img').mkdir(parents=True)
    (root / 'ann').mkdir()
    for index, label in enumerate(labels):
        Image.fromarray(np.full((8, 8, 3), 50 * index, np.uint8)).save(
            root / 'img' / f'{index}.png'
        )
        Image.fromarray(label.astype(np.uint8)).save(
            root / 'ann' / f'{index}.png'
        )


def build(root):
    return BaseUSSDataset(
        data_root=str(root),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=('a', 'b', 'c')),
        pipeline=PIPELINE,
    )


def test_valid_samples_load(tmp_path):
    label = np.array([[0, 1], [2, 255]]).repeat(4, 0).repeat(4, 1)
    write_dataset(tmp_path, [label])
    sample = build(tmp_path)[0]
    assert sample['data_samples'].gt_sem_seg.data.unique().tolist() == [
        0,
        1,
        2,
        255,
    ]


def test_label_value_out_of_range_names_file_and_value(tmp_path):
    good = np.zeros((8, 8))
    bad = np.zeros((8, 8))
    bad[3, 3] = 7
    write_dataset(tmp_path, [good, bad])
    dataset = build(tmp_path)
    dataset[0]
    with pytest.raises(ValueError, match=r'\[7\] in .*ann/1.png'):
        dataset[1]


def test_missing_image_names_file(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))])
    dataset = build(tmp_path)
    (tmp_path / 'img' / '0.png').unlink()
    with pytest.raises(SampleLoadError, match=r'img/0.png'):
        dataset[0]


def test_corrupt_image_names_file(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))])
    (tmp_path / 'img' / '0.png').write_bytes(b'not a png at all')
    with pytest.raises(SampleLoadError, match=r'img_path=.*img/0.png'):
        build(tmp_path)[0]


def test_corrupt_label_names_file(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))])
    (tmp_path / 'ann' / '0.png').write_bytes(b'\x89PNG broken')
    with pytest.raises(SampleLoadError, match=r'seg_map_path=.*ann/0.png'):
        build(tmp_path)[0]


def test_empty_dataset_names_folder(tmp_path):
    (tmp_path / 'img').mkdir()
    with pytest.raises(
        FileNotFoundError,
        match=r'found no image .* in '
        r'.*img',
    ):
        build(tmp_path)
