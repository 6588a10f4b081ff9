# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from dataset_fixtures import write_coco
from PIL import Image

from mmuss.datasets import COCOStuff27Dataset
from mmuss.datasets.preparation import (
    COCOSTUFF_FINE_TO_COARSE,
    ConversionError,
    convert_cocostuff27,
    fine_to_coarse,
    meets_curation_rule,
)
from mmuss.datasets.preparation.cocostuff27 import (
    CURATED_LIST,
    STEGO_TRAIN_LIST,
)


def test_fine_to_coarse_table():
    assert len(COCOSTUFF_FINE_TO_COARSE) == 182
    # things (0-90) map to 0-11, stuff (91-181) to 12-26
    assert set(COCOSTUFF_FINE_TO_COARSE[:91]) == set(range(12))
    assert set(COCOSTUFF_FINE_TO_COARSE[91:]) == set(range(12, 27))
    # spot checks against the COCO-Stuff category names
    assert COCOSTUFF_FINE_TO_COARSE[0] == 9  # person -> person
    assert COCOSTUFF_FINE_TO_COARSE[2] == 11  # car -> vehicle
    assert COCOSTUFF_FINE_TO_COARSE[156] == 23  # sky-other -> sky
    assert COCOSTUFF_FINE_TO_COARSE[123] == 22  # grass -> plant
    label = np.array([[0, 2, 156], [123, 255, 181]], np.uint8)
    np.testing.assert_array_equal(
        fine_to_coarse(label), [[9, 11, 23], [22, 255, 24]]
    )


def test_curation_rule():
    stuff = np.full((360, 400), 23, np.uint8)
    assert meets_curation_rule(stuff)
    assert not meets_curation_rule(stuff[:359])  # too small
    mostly_things = stuff.copy()
    mostly_things[:100] = 9  # 27.8 % things
    assert not meets_curation_rule(mostly_things)


def test_convert_writes_labels_and_derived_list(tmp_path):
    sky = np.full((360, 380), 156, np.uint8)
    person = np.zeros((360, 380), np.uint8)
    write_coco(tmp_path, ['000000000001', '000000000002'], [sky, person])
    counts = convert_cocostuff27(str(tmp_path), splits=('train2017',))
    assert counts == {'train2017': {CURATED_LIST: 1}}
    curated = tmp_path / 'curated' / 'train2017' / CURATED_LIST
    assert curated.read_text().split() == ['000000000001']
    out = np.array(
        Image.open(
            tmp_path
            / 'annotations'
            / 'train2017'
            / '000000000001_labelTrainIds27.png'
        )
    )
    assert (out == 23).all()
    dataset = COCOStuff27Dataset(
        data_root=str(tmp_path),
        ann_file=f'curated/train2017/{CURATED_LIST}',
        data_prefix=dict(
            img_path='images/train2017', seg_map_path='annotations/train2017'
        ),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
    )
    assert len(dataset) == 1
    assert dataset[0]['data_samples'].gt_sem_seg.data.unique().tolist() == [23]


def test_given_curated_list_is_used_and_checked(tmp_path):
    write_coco(
        tmp_path, ['a', 'b'], [np.zeros((8, 8), np.uint8)] * 2, curated=['b']
    )
    lists = tmp_path / 'iic' / 'train2017'
    (lists / STEGO_TRAIN_LIST).write_text('a\nb\n')
    counts = convert_cocostuff27(
        str(tmp_path), splits=('train2017',), curated_dir=str(tmp_path / 'iic')
    )
    assert counts == {'train2017': {CURATED_LIST: 1, STEGO_TRAIN_LIST: 2}}
    curated = tmp_path / 'curated' / 'train2017'
    assert (curated / CURATED_LIST).read_text() == 'b\n'
    assert (curated / STEGO_TRAIN_LIST).read_text() == 'a\nb\n'
    (lists / CURATED_LIST).write_text('b\nzzz\n')
    with pytest.raises(ConversionError, match='zzz'):
        convert_cocostuff27(
            str(tmp_path),
            splits=('train2017',),
            curated_dir=str(tmp_path / 'iic'),
        )


def test_unknown_label_id_names_file(tmp_path):
    label = np.zeros((8, 8), np.uint8)
    label[0, 0] = 200
    write_coco(tmp_path, ['bad'], [label])
    with pytest.raises(
        ConversionError,
        match=r'bad.png holds unknown label '
        r'ids \[200\]',
    ):
        convert_cocostuff27(str(tmp_path), splits=('train2017',))


def test_size_mismatch_and_missing_image_name_files(tmp_path):
    write_coco(tmp_path, ['small'], [np.zeros((9, 8), np.uint8)])
    Image.new('RGB', (8, 8)).save(tmp_path / 'images/train2017/small.jpg')
    with pytest.raises(ConversionError, match='small.png is 9x8 but image'):
        convert_cocostuff27(str(tmp_path), splits=('train2017',))
    (tmp_path / 'images' / 'train2017' / 'small.jpg').unlink()
    with pytest.raises(ConversionError, match='small.jpg does not exist'):
        convert_cocostuff27(str(tmp_path), splits=('train2017',))
