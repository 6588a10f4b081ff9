# Copyright (c) mmuss contributors. All rights reserved.
import os

import numpy as np
import pytest
from dataset_fixtures import NYU_NAMES, nyu_source
from PIL import Image

from mmuss.datasets.preparation import (
    ConversionError,
    convert_nyu_depth_v2,
    nyu40_to_13,
)


def test_40_to_13_mapping_by_hand():
    # void, wall, floor, cabinet, bed, picture, ceiling, books, tv,
    # blinds, floor mat, otherfurniture, otherprop
    nyu40 = np.array([0, 1, 2, 3, 4, 11, 22, 23, 25, 13, 20, 39, 40])
    expected = [255, 11, 4, 5, 0, 7, 2, 1, 10, 12, 4, 5, 6]
    np.testing.assert_array_equal(nyu40_to_13(nyu40), expected)
    # every class is reached, and only from its listed NYU-40 classes
    mapped = nyu40_to_13(np.arange(1, 41))
    assert sorted(set(mapped.tolist())) == list(range(13))
    assert np.flatnonzero(mapped == 8).tolist() == [5]  # sofa <- 6 sofa


def test_convert_untransposes_rgb_and_maps_labels(tmp_path):
    labels, hha, rgb = nyu_source(tmp_path / 'nyu')
    out = tmp_path / 'out'
    counts = convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(out))
    assert counts == dict(train=2, test=1, rgb_transposed=3, hha_transposed=0)
    assert (out / 'splits/train.txt').read_text().split() == ['0001', '0002']
    assert (out / 'splits/test.txt').read_text().split() == ['0003']
    for name in NYU_NAMES:
        image = np.array(Image.open(out / f'img_dir/all/{name}.png'))
        np.testing.assert_array_equal(image, rgb[name])
        depth = np.array(Image.open(out / f'hha/img_dir/all/{name}.png'))
        np.testing.assert_array_equal(depth, hha[name])
        label = np.array(Image.open(out / f'ann_dir/all/{name}.png'))
        np.testing.assert_array_equal(label, nyu40_to_13(labels[name]))


def test_jpeg_rgb_in_label_orientation(tmp_path):
    labels, hha, rgb = nyu_source(tmp_path / 'nyu', rgb_suffix='.jpg')
    for name in NYU_NAMES:  # re-store the RGB files untransposed
        os.remove(tmp_path / f'nyu/RGB/{name}.jpg')
        Image.fromarray(rgb[name]).save(tmp_path / f'nyu/RGB/{name}.jpg')
    counts = convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(tmp_path / 'o'))
    assert counts['rgb_transposed'] == 0
    image = Image.open(tmp_path / 'o/img_dir/all/0001.png')
    assert image.size == (8, 6)


def test_resume_rebuilds_only_missing_outputs(tmp_path):
    nyu_source(tmp_path / 'nyu')
    out = tmp_path / 'out'
    convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(out))
    kept = out / 'img_dir/all/0001.png'
    stamp = os.stat(kept).st_mtime_ns
    os.remove(out / 'hha/img_dir/all/0002.png')
    counts = convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(out))
    assert os.stat(kept).st_mtime_ns == stamp
    assert (out / 'hha/img_dir/all/0002.png').is_file()
    assert counts['rgb_transposed'] == 1  # only 0002 was converted again


def test_corrupt_hha_names_the_file(tmp_path):
    nyu_source(tmp_path / 'nyu')
    (tmp_path / 'nyu/HHA/0002.png').write_bytes(b'not a png')
    with pytest.raises(ConversionError, match=r'HHA/0002\.png'):
        convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(tmp_path / 'out'))


def test_unknown_label_id_names_the_file(tmp_path):
    nyu_source(tmp_path / 'nyu')
    Image.fromarray(np.full((6, 8), 41, np.uint8)).save(
        tmp_path / 'nyu/Labels/0003.png'
    )
    with pytest.raises(
        ConversionError, match=r'Labels/0003\.png holds unknown label ids \[41'
    ):
        convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(tmp_path / 'out'))


def test_misfit_size_names_both_files(tmp_path):
    nyu_source(tmp_path / 'nyu')
    Image.fromarray(np.zeros((5, 8, 3), np.uint8)).save(
        tmp_path / 'nyu/HHA/0001.png'
    )
    with pytest.raises(
        ConversionError, match=r'HHA/0001\.png is 5x8 .*Labels/0001\.png'
    ):
        convert_nyu_depth_v2(str(tmp_path / 'nyu'), str(tmp_path / 'out'))
