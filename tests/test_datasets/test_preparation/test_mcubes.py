# Copyright (c) mmuss contributors. All rights reserved.
import os

import numpy as np
import pytest
from dataset_fixtures import MCUBES_WIDTH, mcubes_source
from PIL import Image

from mmuss.datasets.preparation import (
    ConversionError,
    convert_mcubes,
    encode_aolp,
    min_max_to_uint8,
)


def scaled_by_hand(values):
    """floor(255 (x - min) / (max - min)), UniM2's _normalize_to_uint8."""
    return np.floor(
        (values - values.min()) / (values.max() - values.min()) * 255
    ).astype(np.uint8)


def read(folder, name):
    return np.array(Image.open(folder / f'{name}.png'))


def test_min_max_by_hand():
    np.testing.assert_array_equal(
        min_max_to_uint8(np.array([2.0, 3.0, 4.0, 2.5])), [0, 127, 255, 63]
    )
    assert not min_max_to_uint8(np.full((2, 2), 0.3)).any()
    aolp = encode_aolp(np.array([[0.0, 1.0]]), np.array([[1.0, -1.0]]))
    np.testing.assert_array_equal(aolp, [[[0, 255, 0], [255, 0, 255]]])


def test_convert_crops_left_and_encodes(tmp_path):
    sets = mcubes_source(tmp_path / 'src')
    out = tmp_path / 'out'
    counts = convert_mcubes(str(tmp_path / 'src'), str(out))
    assert counts == dict(train=2, val=1, test=1)
    assert (out / 'splits/val.txt').read_text().split() == ['b_0001']
    for name in ('a_0002', 'c_0001'):
        arrays = {k: v[:, 192:] for k, v in sets[name].items()}
        sin, cos = scaled_by_hand(arrays['sin']), scaled_by_hand(arrays['cos'])
        expected = {
            'img_dir/all': arrays['rgb'] >> 8,
            'ann_dir/all': arrays['label'],
            'nir/img_dir/all': arrays['nir'] >> 8,
            'dolp/img_dir/all': scaled_by_hand(arrays['dolp']),
            'aolp/img_dir/all': np.stack([sin, cos, sin], axis=2),
        }
        for folder, values in expected.items():
            np.testing.assert_array_equal(read(out / folder, name), values)


def test_resume_keeps_finished_sets(tmp_path):
    mcubes_source(tmp_path / 'src')
    out = tmp_path / 'out'
    convert_mcubes(str(tmp_path / 'src'), str(out))
    kept = out / 'aolp/img_dir/all/a_0001.png'
    stamp = os.stat(kept).st_mtime_ns
    os.remove(out / 'nir/img_dir/all/b_0001.png')
    convert_mcubes(str(tmp_path / 'src'), str(out))
    assert os.stat(kept).st_mtime_ns == stamp
    assert (out / 'nir/img_dir/all/b_0001.png').is_file()


def test_corrupt_npy_names_the_file(tmp_path):
    mcubes_source(tmp_path / 'src')
    (tmp_path / 'src/polL_dolp/a_0002.npy').write_bytes(b'\x93NUMPY broken')
    with pytest.raises(
        ConversionError, match=r'cannot read DoLP file .*polL_dolp/a_0002'
    ):
        convert_mcubes(str(tmp_path / 'src'), str(tmp_path / 'out'))


def test_unknown_label_id_names_the_file(tmp_path):
    mcubes_source(tmp_path / 'src')
    Image.fromarray(np.full((5, MCUBES_WIDTH), 20, np.uint8)).save(
        tmp_path / 'src/GT/c_0001.png'
    )
    with pytest.raises(
        ConversionError, match=r'GT/c_0001\.png holds unknown label ids \[20'
    ):
        convert_mcubes(str(tmp_path / 'src'), str(tmp_path / 'out'))


def test_misaligned_modality_names_both_files(tmp_path):
    mcubes_source(tmp_path / 'src')
    np.save(tmp_path / 'src/polL_aolp_cos/a_0001.npy', np.zeros((5, 150)))
    with pytest.raises(
        ConversionError,
        match=r'aolp_cos/a_0001\.npy is 5x150 .*GT/a_0001',
    ):
        convert_mcubes(str(tmp_path / 'src'), str(tmp_path / 'out'))
