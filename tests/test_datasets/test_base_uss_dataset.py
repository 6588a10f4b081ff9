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


def test_image_deleted_after_build_names_file(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))])
    dataset = build(tmp_path)
    (tmp_path / 'img' / '0.png').unlink()
    with pytest.raises(SampleLoadError, match=r'img/0.png'):
        dataset[0]


def test_missing_image_of_a_split_is_an_error_at_build(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))] * 3)
    (tmp_path / 'img' / '1.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'1 files .*img/1.png'):
        build(tmp_path)
    (tmp_path / 'ann' / '2.png').unlink()  # image without its label
    with pytest.raises(FileNotFoundError, match=r'2 files') as info:
        build(tmp_path)
    assert 'ann/2.png' in str(info.value)
    # explicitly allowed: skipped, with the count
    dataset = BaseUSSDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=('a', 'b', 'c')),
        pipeline=PIPELINE,
        missing_files='skip',
    )
    assert len(dataset) == 1


def test_missing_file_listed_in_ann_file_is_an_error(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))] * 2)
    (tmp_path / 'split.txt').write_text('0\n1\n7\n')
    with pytest.raises(FileNotFoundError, match=r'img/7.png') as info:
        BaseUSSDataset(
            data_root=str(tmp_path),
            ann_file='split.txt',
            data_prefix=dict(img_path='img', seg_map_path='ann'),
            img_suffix='.png',
            seg_map_suffix='.png',
            metainfo=dict(classes=('a', 'b', 'c')),
            pipeline=PIPELINE,
        )
    assert 'ann/7.png' in str(info.value)


def test_missing_files_option_is_checked(tmp_path):
    write_dataset(tmp_path, [np.zeros((8, 8))])
    with pytest.raises(ValueError, match='missing_files'):
        BaseUSSDataset(
            data_root=str(tmp_path),
            data_prefix=dict(img_path='img', seg_map_path='ann'),
            missing_files='ignore',
        )


@pytest.mark.parametrize('pipeline', ['train', 'test'])
def test_label_of_another_size_names_both_files_and_sizes(tmp_path, pipeline):
    write_dataset(tmp_path, [np.zeros((8, 8)), np.zeros((6, 8))])
    steps = (
        [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomFlip', prob=1.0),
            dict(type='PackSegInputs'),
        ]
        if pipeline == 'train'
        else [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='ResizeCenterCrop', size=4, as_original=True),
            dict(type='PackSegInputs'),
        ]
    )
    dataset = BaseUSSDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=('a', 'b', 'c')),
        pipeline=steps,
    )
    dataset[0]
    with pytest.raises(SampleLoadError) as info:
        dataset[1]
    message = str(info.value)
    assert 'img/1.png is 8x8' in message and 'ann/1.png is 6x8' in message


def test_label_loaded_at_original_size_after_resize_is_accepted(tmp_path):
    # mmseg's test pipelines resize the image, then load the label at its
    # original size (predictions are resized back to ori_shape)
    write_dataset(tmp_path, [np.zeros((8, 8))])
    dataset = BaseUSSDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=('a', 'b', 'c')),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(4, 4), keep_ratio=True),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
    )
    sample = dataset[0]
    assert sample['inputs'].shape[-2:] == (4, 4)
    assert sample['data_samples'].gt_sem_seg.shape == (8, 8)


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
