# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
from dataset_fixtures import write_voc
from PIL import Image
from scipy.io import savemat

from mmuss.datasets.preparation import ConversionError, convert_pascal_voc


def test_palette_pngs_become_class_ids(tmp_path):
    label = np.zeros((8, 10), np.uint8)
    label[2:5, 2:5] = 15  # person
    label[0, 0] = 255
    voc = tmp_path / 'VOC2012'
    write_voc(
        voc,
        ['2007_000032'],
        ['2007_000033'],
        {'2007_000032': label, '2007_000033': label},
    )
    counts = convert_pascal_voc(str(voc), str(tmp_path / 'out'))
    assert counts == dict(train=1, val=1)
    out = np.array(Image.open(tmp_path / 'out/ann_dir/train/2007_000032.png'))
    np.testing.assert_array_equal(out, label)
    assert (tmp_path / 'out/img_dir/val/2007_000033.jpg').is_file()
    assert (tmp_path / 'out/splits/val.txt').read_text() == '2007_000033\n'


def test_sbd_trainaug(tmp_path):
    label = np.zeros((8, 10), np.uint8)
    voc = tmp_path / 'VOC2012'
    write_voc(voc, ['a'], ['v'], {'a': label, 'v': label})
    Image.new('RGB', (10, 8)).save(voc / 'JPEGImages' / 's.jpg')
    sbd = tmp_path / 'sbd'
    (sbd / 'cls').mkdir(parents=True)
    sbd_label = np.full((8, 10), 3, np.uint8)
    savemat(
        sbd / 'cls' / 's.mat',
        {'GTcls': {'Segmentation': sbd_label, 'Boundaries': 0}},
    )
    (sbd / 'train.txt').write_text('s\nv\n')  # v is VOC val: excluded
    (sbd / 'val.txt').write_text('')
    counts = convert_pascal_voc(
        str(voc), str(tmp_path / 'out'), sbd_root=str(sbd)
    )
    assert counts['trainaug'] == 2
    out = np.array(Image.open(tmp_path / 'out/ann_dir/trainaug/s.png'))
    assert (out == 3).all()


def test_missing_label_is_named(tmp_path):
    voc = tmp_path / 'VOC2012'
    write_voc(voc, ['a'], [], {})
    with pytest.raises(ConversionError, match='a.jpg has no label file'):
        convert_pascal_voc(str(voc), str(tmp_path / 'out'))
