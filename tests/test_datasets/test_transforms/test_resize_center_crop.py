# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

from mmuss.datasets.transforms import resize_short_side_center_crop


def test_protocol_resize_and_centre_crop():
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 100:] = 255  # right half white
    labels = np.zeros((100, 200), np.uint8)
    labels[:, 100:] = 1
    labels[0, 0] = 255
    transform = TRANSFORMS.build(
        dict(type='ResizeCenterCrop', size=50, as_original=True)
    )
    results = transform(
        dict(
            img=image,
            gt_seg_map=labels,
            seg_fields=['gt_seg_map'],
            ori_shape=(100, 200),
            img_shape=(100, 200),
        )
    )
    # 100x200 -> 50x100 -> centre 50x50 (columns 25..74 of the resized)
    assert results['img'].shape == (50, 50, 3)
    assert results['gt_seg_map'].shape == (50, 50)
    assert results['img_shape'] == (50, 50)
    assert results['ori_shape'] == (50, 50)
    assert set(np.unique(results['gt_seg_map'])) == {0, 1}  # nearest
    assert (results['gt_seg_map'][:, :25] == 0).all()
    assert (results['gt_seg_map'][:, 25:] == 1).all()


def test_without_as_original_keeps_ori_shape():
    transform = TRANSFORMS.build(
        dict(type='ResizeCenterCrop', size=32, crop_size=24)
    )
    results = transform(
        dict(img=np.zeros((40, 30, 3), np.uint8), ori_shape=(40, 30))
    )
    assert results['img'].shape == (24, 24, 3)
    assert results['ori_shape'] == (40, 30)


def test_short_side_resize_on_portrait_images():
    out = resize_short_side_center_crop(np.zeros((90, 30)), 10, 10, 'nearest')
    assert out.shape == (10, 10)


def test_crop_larger_than_size_is_rejected():
    with pytest.raises(ValueError, match='crop_size 40 exceeds size 32'):
        TRANSFORMS.build(dict(type='ResizeCenterCrop', size=32, crop_size=40))
