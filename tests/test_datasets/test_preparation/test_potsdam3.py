# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from dataset_fixtures import write_potsdam
from PIL import Image
from scipy.io import savemat

from mmuss.datasets.preparation import (
    ConversionError,
    convert_potsdam3,
    merge_potsdam_labels,
)


def test_merges():
    ids = np.array([0, 1, 2, 3, 4, 5, 255])
    np.testing.assert_array_equal(
        merge_potsdam_labels(ids), [0, 1, 2, 2, 0, 1, 255]
    )
    np.testing.assert_array_equal(
        merge_potsdam_labels(ids, 'mssseg'), [0, 1, 2, 2, 0, 0, 255]
    )
    with pytest.raises(ValueError, match='merge'):
        merge_potsdam_labels(ids, 'other')


def test_convert_real_mat_format(tmp_path):
    # IIC's lists are not sorted
    write_potsdam(tmp_path, ['p2', 'p1', 'p3'], ['u1'])
    counts = convert_potsdam3(str(tmp_path), str(tmp_path / 'out'))
    assert counts == dict(train=2, val=1, unlabelled=1)
    image = np.array(Image.open(tmp_path / 'out/img_dir/train/p1.png'))
    from scipy.io import loadmat

    original = loadmat(tmp_path / 'imgs/p1.mat')['img']
    np.testing.assert_array_equal(image, original[..., :3])
    label = np.array(Image.open(tmp_path / 'out/ann_dir/val/p3.png'))
    gt = loadmat(tmp_path / 'gt/p3.mat')['gt']
    np.testing.assert_array_equal(label, merge_potsdam_labels(gt))
    assert (tmp_path / 'out/img_dir/unlabelled/u1.png').is_file()
    assert not (tmp_path / 'out/ann_dir/unlabelled').exists()
    # the lists keep IIC's order (upstream KNN files follow it)
    train_list = (tmp_path / 'labelled_train.txt').read_text().split()
    assert train_list == ['p2', 'p1']
    assert (tmp_path / 'out/splits/train.txt').read_text().split() == (
        train_list
    )


def test_wrong_size_and_unknown_ids_name_file(tmp_path):
    write_potsdam(tmp_path, ['p1', 'p2'], [], size=100)
    with pytest.raises(
        ConversionError, match='p1.mat is 100x100, expected 200x200'
    ):
        convert_potsdam3(str(tmp_path), str(tmp_path / 'out'))
    savemat(tmp_path / 'gt/p1.mat', {'gt': np.full((100, 100), 9)})
    with pytest.raises(
        ConversionError,
        match=r'p1.mat holds unknown label '
        r'ids \[9\]',
    ):
        convert_potsdam3(
            str(tmp_path), str(tmp_path / 'out'), expected_size=None
        )
