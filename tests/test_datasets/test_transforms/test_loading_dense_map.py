# Copyright (c) mmuss contributors. All rights reserved.
import os
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
from mmseg.datasets.transforms import RandomCrop, RandomFlip, Resize

from mmuss.datasets.transforms import (
    LoadDenseMap,
    PackUSSInputs,
    PhotometricView,
    dense_map_path,
)


def write_sample(root, height=12, width=16, suffix='.png'):
    """An image, a label and a depth map (millimetres) in the real
    formats: 8-bit BGR PNG, 8-bit label PNG, 16-bit PNG or float .npy."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    label = rng.integers(0, 3, (height, width), dtype=np.uint8)
    depth_mm = rng.integers(500, 60000, (height, width)).astype(np.uint16)
    img_path = osp.join(root, 'images', 'a', 'x.png')
    mmcv.imwrite(image, img_path)
    path = dense_map_path(img_path, str(root), 'depth', suffix)
    os.makedirs(osp.dirname(path), exist_ok=True)
    if suffix == '.png':
        assert cv2.imwrite(path, depth_mm)
    else:
        np.save(path, depth_mm.astype(np.float32) / 1000)
    return dict(
        img=image,
        img_path=img_path,
        data_root=str(root),
        gt_seg_map=label,
        seg_fields=['gt_seg_map'],
        img_shape=(height, width),
        ori_shape=(height, width),
    ), depth_mm.astype(np.float32) / 1000


@pytest.mark.parametrize('suffix', ['.png', '.npy'])
def test_map_is_read_as_float_and_stacked(tmp_path, suffix):
    results, depth = write_sample(tmp_path, suffix=suffix)
    scale = 1 / 1000 if suffix == '.png' else 1.0
    out = LoadDenseMap('depth', 'depth', suffix=suffix, scale=scale)(
        dict(results)
    )
    assert out['img'].dtype == np.float32
    assert out['img'].shape == (12, 16, 4)
    np.testing.assert_array_equal(out['img'][..., :3], results['img'])
    np.testing.assert_allclose(out['img'][..., 3], depth, rtol=1e-6)
    assert out['aux_channels'] == [('depth', 1)]


def test_geometry_treats_the_map_as_image_and_labels_stay_nearest(tmp_path):
    results, depth = write_sample(tmp_path)
    out = LoadDenseMap('depth', 'depth', scale=1 / 1000)(dict(results))
    out = Resize(scale=(32, 24), keep_ratio=False)(out)
    # bilinear like the image, not nearest like the label
    expected = mmcv.imresize(depth, (32, 24), interpolation='bilinear')
    np.testing.assert_allclose(out['img'][..., 3], expected, rtol=1e-5)
    labels = mmcv.imresize(
        results['gt_seg_map'], (32, 24), interpolation='nearest'
    )
    np.testing.assert_array_equal(out['gt_seg_map'], labels)
    resized = out['img'].copy()
    out = RandomFlip(prob=1.0)(out)
    np.testing.assert_array_equal(out['img'], resized[:, ::-1])
    np.testing.assert_array_equal(out['gt_seg_map'], labels[:, ::-1])
    out = RandomCrop(crop_size=(8, 8))(out)
    assert out['img'].shape == (8, 8, 4)
    rows, cols = np.nonzero(
        np.all(resized[:, ::-1, 3:4] == out['img'][0:1, 0:1, 3:4], axis=2)
    )
    assert len(rows) >= 1  # the crop comes from the flipped map
    packed = PackUSSInputs()(out)
    assert packed['inputs'].dtype.is_floating_point
    assert packed['inputs'].shape == (4, 8, 8)
    assert packed['data_samples'].aux_channels == (('depth', 1),)


def test_photometric_view_reads_the_colour_channels_only(tmp_path):
    results, _ = write_sample(tmp_path)
    out = LoadDenseMap('depth', 'depth', scale=1 / 1000)(dict(results))
    out = PhotometricView()(out)
    assert out['student_img'].dtype == np.uint8
    assert out['student_img'].shape == (12, 16, 3)


def test_missing_corrupt_mismatched_and_nan_maps_name_the_file(tmp_path):
    results, _ = write_sample(tmp_path)
    loader = LoadDenseMap(
        'depth', 'depth', tool='tools/make_depth.py CONFIG', scale=1e-3
    )
    path = dense_map_path(results['img_path'], str(tmp_path), 'depth', '.png')
    missing = dict(results, img_path=results['img_path'].replace('x', 'y'))
    with pytest.raises(FileNotFoundError, match='y.png.*make_depth.py'):
        loader(missing)
    with open(path, 'wb') as file:
        file.write(b'not a png')
    with pytest.raises(ValueError, match=f'{osp.basename(path)}.*rebuild'):
        loader(dict(results))
    assert cv2.imwrite(path, np.zeros((5, 5), np.uint16))
    with pytest.raises(ValueError, match=r'\(5, 5\).*x.png is \(12, 16\)'):
        loader(dict(results))
    npy = LoadDenseMap('depth', 'depth', suffix='.npy')
    npy_path = dense_map_path(
        results['img_path'], str(tmp_path), 'depth', '.npy'
    )
    values = np.ones((12, 16), np.float32)
    values[3, 4] = np.nan
    np.save(npy_path, values)
    with pytest.raises(ValueError, match='x.npy.*NaN'):
        npy(dict(results))
    with pytest.raises(ValueError, match='suffix'):
        LoadDenseMap('depth', 'depth', suffix='.tif')
