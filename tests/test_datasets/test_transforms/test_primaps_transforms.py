# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmuss.datasets.transforms import pseudo_mask_path


def test_pseudo_mask_is_loaded_as_a_seg_field(tmp_path):
    image = tmp_path / 'images' / 'a.jpg'
    target = pseudo_mask_path(str(image), str(tmp_path), 'primaps/x')
    assert target == str(tmp_path / 'primaps' / 'x' / 'images' / 'a.png')
    (tmp_path / 'primaps/x/images').mkdir(parents=True)
    mask = np.array([[1, 1, 255], [2, 2, 2]], np.uint8)
    Image.fromarray(mask).save(target)
    transform = TRANSFORMS.build(
        dict(
            type='LoadPseudoMask',
            data_root=str(tmp_path),
            mask_dir='primaps/x',
        )
    )
    results = transform(dict(img_path=str(image), seg_fields=[]))
    np.testing.assert_array_equal(results['primaps_map'], mask)
    assert results['seg_fields'] == ['primaps_map']
    flipped = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(
        dict(results, img=np.zeros((2, 3, 3), np.uint8))
    )
    np.testing.assert_array_equal(flipped['primaps_map'], mask[:, ::-1])


def test_missing_pseudo_mask_names_file_and_tool(tmp_path):
    transform = TRANSFORMS.build(
        dict(
            type='LoadPseudoMask',
            data_root=str(tmp_path),
            mask_dir='primaps/x',
        )
    )
    with pytest.raises(
        FileNotFoundError,
        match=r'a.png of .*a.jpg does not exist.*precompute_primaps.py',
    ):
        transform(dict(img_path=str(tmp_path / 'a.jpg')))


def test_pseudo_mask_root_comes_from_the_sample(tmp_path):
    target = pseudo_mask_path(str(tmp_path / 'a.jpg'), str(tmp_path), 'm')
    (tmp_path / 'm').mkdir()
    Image.fromarray(np.ones((2, 2), np.uint8)).save(target)
    transform = TRANSFORMS.build(dict(type='LoadPseudoMask', mask_dir='m'))
    results = transform(
        dict(img_path=str(tmp_path / 'a.jpg'), data_root=str(tmp_path))
    )
    assert results['primaps_map'].sum() == 4
    with pytest.raises(KeyError, match='needs data_root.*a.jpg'):
        transform(dict(img_path=str(tmp_path / 'a.jpg')))


def test_photometric_view_keeps_geometry_and_original():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 40, 3), np.uint8)
    image[:, :20] = 255  # a strong edge
    transform = TRANSFORMS.build(dict(type='PhotometricView'))
    np.random.seed(0)
    results = transform(dict(img=image.copy()))
    view = results['student_img']
    assert view.shape == image.shape and view.dtype == np.uint8
    np.testing.assert_array_equal(results['img'], image)  # untouched
    assert not np.array_equal(view, image)  # blurred at least
    # still pixel-aligned: the bright half stays brighter
    assert view[:, :18].mean() > view[:, 22:].mean()


def test_pack_uss_inputs_packs_extra_fields():
    results = dict(
        img=np.zeros((4, 5, 3), np.uint8),
        student_img=np.full((4, 5, 3), 7, np.uint8),
        primaps_map=np.full((4, 5), 3, np.uint8),
        img_path='x.png',
        ori_shape=(4, 5),
        img_shape=(4, 5),
    )
    packed = TRANSFORMS.build(
        dict(
            type='PackUSSInputs',
            image_fields=['student_img'],
            map_fields=['primaps_map'],
        )
    )(results)
    sample = packed['data_samples']
    assert sample.student_img.data.shape == (3, 4, 5)
    assert int(sample.student_img.data[0, 0, 0]) == 7
    assert sample.primaps_map.data.shape == (1, 4, 5)
    assert sample.primaps_map.data.dtype.is_floating_point is False
