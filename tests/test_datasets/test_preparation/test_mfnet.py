# Copyright (c) mmuss contributors. All rights reserved.
import os

import numpy as np
import pytest
from dataset_fixtures import MFNET_SPLITS, mfnet_source
from PIL import Image

from mmuss.datasets.preparation import (
    ConversionError,
    convert_mfnet,
    mfnet_label_to_classes,
)


def test_label_ids_by_hand():
    np.testing.assert_array_equal(
        mfnet_label_to_classes(np.arange(9)), [255, 0, 1, 2, 3, 4, 5, 6, 7]
    )


def test_convert_splits_rgb_and_thermal(tmp_path):
    images, labels = mfnet_source(tmp_path / 'src')
    out = tmp_path / 'out'
    counts = convert_mfnet(str(tmp_path / 'src'), str(out))
    assert counts == dict(train=3, val=1, test=1)
    listed = (out / 'splits/train.txt').read_text().split()
    assert listed == MFNET_SPLITS['train']
    for name in ('00001D', '00004N'):
        rgb = np.array(Image.open(out / f'img_dir/all/{name}.png'))
        thermal = np.array(Image.open(out / f'thermal/img_dir/all/{name}.png'))
        label = np.array(Image.open(out / f'ann_dir/all/{name}.png'))
        np.testing.assert_array_equal(rgb, images[name][..., :3])
        np.testing.assert_array_equal(thermal, images[name][..., 3])
        expected = labels[name].astype(int) - 1
        expected[labels[name] == 0] = 255
        np.testing.assert_array_equal(label, expected)
    flipped = np.array(Image.open(out / 'thermal/img_dir/all/00001D_flip.png'))
    np.testing.assert_array_equal(flipped, images['00001D'][:, ::-1, 3])
    label = np.array(Image.open(out / 'ann_dir/all/00001D_flip.png'))
    np.testing.assert_array_equal(
        label, mfnet_label_to_classes(labels['00001D'][:, ::-1])
    )


def test_resume_keeps_finished_sets(tmp_path):
    mfnet_source(tmp_path / 'src')
    out = tmp_path / 'out'
    convert_mfnet(str(tmp_path / 'src'), str(out))
    kept = out / 'img_dir/all/00002N.png'
    stamp = os.stat(kept).st_mtime_ns
    os.remove(out / 'thermal/img_dir/all/00003D.png')
    (out / 'ann_dir/all/00004N.png').write_bytes(b'')  # interrupted write
    with pytest.warns(UserWarning, match='rebuilding'):
        convert_mfnet(str(tmp_path / 'src'), str(out))
    assert os.stat(kept).st_mtime_ns == stamp
    assert (out / 'thermal/img_dir/all/00003D.png').is_file()
    assert Image.open(out / 'ann_dir/all/00004N.png').size == (8, 6)


def test_three_channel_image_names_the_file(tmp_path):
    mfnet_source(tmp_path / 'src')
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(
        tmp_path / 'src/images/00003D.png'
    )
    with pytest.raises(
        ConversionError, match=r'images/00003D\.png must be an 8-bit 4-ch'
    ):
        convert_mfnet(str(tmp_path / 'src'), str(tmp_path / 'out'))


def test_truncated_image_names_the_file(tmp_path):
    mfnet_source(tmp_path / 'src')
    path = tmp_path / 'src/images/00002N.png'
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ConversionError, match=r'images/00002N\.png'):
        convert_mfnet(str(tmp_path / 'src'), str(tmp_path / 'out'))


def test_missing_split_list_is_named(tmp_path):
    mfnet_source(tmp_path / 'src')
    os.remove(tmp_path / 'src/val.txt')
    with pytest.raises(ConversionError, match=r'val\.txt does not exist'):
        convert_mfnet(str(tmp_path / 'src'), str(tmp_path / 'out'))
