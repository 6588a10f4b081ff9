# Copyright (c) mmuss contributors. All rights reserved.
import math
import os
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
from mmseg.datasets.transforms import RandomFlip

from mmuss.datasets.transforms import (
    LoadModality,
    PhotometricView,
    dense_map_path,
    encode_angle,
)


def write_sample(root, modality, height=6, width=8):
    """An 8-bit BGR image and a modality file (as written by cv2)."""
    image = np.random.default_rng(0).integers(
        0, 256, (height, width, 3), dtype=np.uint8
    )
    img_path = osp.join(root, 'images', 'x.png')
    mmcv.imwrite(image, img_path)
    path = dense_map_path(img_path, str(root), 'modality', '.png')
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, modality)
    results = dict(img=image, img_path=img_path, data_root=str(root))
    return results, path


def test_colour_modality_is_stacked_as_decoded(tmp_path):
    hha = np.random.default_rng(1).integers(0, 256, (6, 8, 3), np.uint8)
    results, _ = write_sample(tmp_path, hha)
    out = LoadModality('hha', 'modality')(dict(results))
    assert out['img'].shape == (6, 8, 6) and out['img'].dtype == np.float32
    np.testing.assert_array_equal(out['img'][..., :3], results['img'])
    np.testing.assert_array_equal(out['img'][..., 3:], hha)  # BGR as cv2
    assert out['aux_channels'] == [('hha', 3)]


def test_single_channel_modality_is_replicated(tmp_path):
    thermal = np.arange(48, dtype=np.uint8).reshape(6, 8)
    results, _ = write_sample(tmp_path, thermal)
    out = LoadModality('thermal', 'modality', encoding='replicate')(results)
    for channel in range(3, 6):
        np.testing.assert_array_equal(out['img'][..., channel], thermal)


def test_angle_encoding_by_hand(tmp_path):
    # AoLP stored as 8 bits over [0, pi): values 0, 64, 128, 191
    stored = np.array([[0, 64], [128, 191]], dtype=np.uint8)
    angle = stored.astype(np.float64) * math.pi / 255
    sin, cos = np.sin(angle), np.cos(angle)

    def minmax(values):
        return (values - values.min()) / (values.max() - values.min()) * 255

    expected = np.stack([minmax(sin), minmax(cos), minmax(sin)], axis=2)
    np.testing.assert_allclose(encode_angle(angle), expected, rtol=1e-5)
    results, _ = write_sample(
        tmp_path, np.kron(stored, np.ones((3, 4), np.uint8))
    )
    out = LoadModality(
        'aolp', 'modality', encoding='angle', angle_scale=math.pi / 255
    )(results)
    np.testing.assert_allclose(
        out['img'][::3, ::4, 3:], expected, rtol=1e-5, atol=1e-3
    )
    flat = encode_angle(np.zeros((2, 2)))
    assert (flat[..., 0] == 0).all() and (flat[..., 1] == 0).all()


def test_channel_count_and_missing_files_name_the_file(tmp_path):
    results, path = write_sample(tmp_path, np.zeros((6, 8), np.uint8))
    with pytest.raises(ValueError, match=rf'{path}.*3-channel.*replicate'):
        LoadModality('hha', 'modality')(dict(results))
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=r'hha map .*make_hha\.py'):
        LoadModality('hha', 'modality', tool='tools/make_hha.py')(results)
    with pytest.raises(ValueError, match='encoding'):
        LoadModality('hha', 'modality', encoding='jet')


def test_flip_moves_the_modality_photometric_view_does_not(tmp_path):
    hha = np.random.default_rng(2).integers(0, 256, (6, 8, 3), np.uint8)
    results, _ = write_sample(tmp_path, hha)
    out = LoadModality('hha', 'modality')(dict(results))
    flipped = RandomFlip(prob=1.0)(dict(out))
    np.testing.assert_array_equal(flipped['img'][..., 3:], hha[:, ::-1])
    view = PhotometricView(key='student_img')(dict(out))
    assert view['student_img'].shape == (6, 8, 3)
    np.testing.assert_array_equal(view['img'][..., 3:], hha)
