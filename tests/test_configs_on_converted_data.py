# Copyright (c) mmuss contributors. All rights reserved.
"""Each benchmark's baseline config evaluates data prepared by its
converter from files in the official format (tiny backbone, few images)."""

import copy
import os.path as osp

import numpy as np
import pytest
from dataset_fixtures import (
    write_city,
    write_coco,
    write_mastr,
    write_potsdam,
    write_voc,
)
from helpers import REPO_ROOT, TINY_VIT
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from mmuss.datasets.preparation import (
    convert_cityscapes27,
    convert_cocostuff27,
    convert_mastr1325,
    convert_pascal_voc,
    convert_potsdam3,
)


def prepare_cocostuff27(tmp_path):
    rng = np.random.default_rng(0)
    labels = [
        rng.choice([0, 2, 156, 123], (48, 64)).astype(np.uint8)
        for _ in range(3)
    ]
    names = ['000000000001', '000000000002', '000000000003']
    for split in ('train2017', 'val2017'):
        write_coco(tmp_path, names, labels, split, curated=names[:2])
    convert_cocostuff27(str(tmp_path), curated_dir=str(tmp_path / 'iic'))
    return tmp_path


def prepare_cityscapes27(tmp_path):
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for index in range(2):
            label = rng.choice([3, 7, 8, 26], (32, 64)).astype(np.uint8)
            write_city(
                tmp_path,
                split,
                'city',
                f'city_{index}_000019',
                label,
                size=(32, 64),
            )
    convert_cityscapes27(str(tmp_path))
    return tmp_path


def prepare_potsdam3(tmp_path):
    write_potsdam(tmp_path / 'src', ['p1', 'p2', 'p3'], ['u1'], size=40)
    convert_potsdam3(
        str(tmp_path / 'src'), str(tmp_path / 'out'), expected_size=40
    )
    return tmp_path / 'out'


def prepare_pascal_voc21(tmp_path):
    label = np.zeros((40, 50), np.uint8)
    label[10:30, 10:30] = 15
    write_voc(
        tmp_path / 'VOC2012',
        ['a', 'b'],
        ['c', 'd'],
        {n: label for n in 'abcd'},
        size=(40, 50),
    )
    convert_pascal_voc(str(tmp_path / 'VOC2012'), str(tmp_path / 'out'))
    return tmp_path / 'out'


def prepare_mastr1325(tmp_path):
    mask = np.zeros((36, 48), np.uint8)
    mask[:10], mask[25:] = 2, 1
    write_mastr(tmp_path / 'src', [f'{i:04d}' for i in range(5)], [mask] * 5)
    convert_mastr1325(str(tmp_path / 'src'), str(tmp_path / 'out'))
    return tmp_path / 'out'


CASES = [
    ('dino_vits8_cocostuff27.py', prepare_cocostuff27, 8),
    ('dino_vits8_cityscapes27.py', prepare_cityscapes27, 8),
    ('dino_vits8_potsdam3.py', prepare_potsdam3, 8),
    ('dinov2_vits14_potsdam3.py', prepare_potsdam3, 14),
    ('dino_vits8_pascal_voc21.py', prepare_pascal_voc21, 8),
    ('dino_vits8_mastr1325.py', prepare_mastr1325, 8),
]


@pytest.mark.parametrize(
    'config, prepare, patch_size', CASES, ids=[c[0] for c in CASES]
)
def test_baseline_config_evaluates_converted_data(
    config, prepare, patch_size, tmp_path
):
    data_root = str(prepare(tmp_path / 'data'))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'baseline', config))
    cfg.work_dir = str(tmp_path / 'work')
    backbone = copy.deepcopy(TINY_VIT)
    backbone.update(patch_size=patch_size)
    cfg.model.backbone = backbone
    cfg.model.decode_head.in_channels = 32
    cfg.test_dataloader.dataset.data_root = data_root
    cfg.test_dataloader.update(
        num_workers=0, persistent_workers=False, batch_size=2
    )
    cfg.test_evaluator.output_dir = str(tmp_path / 'results')
    metrics = Runner.from_cfg(cfg).test()
    assert 0 <= metrics['mIoU'] <= 100 and 0 < metrics['aAcc'] <= 100
    assert 'linear_mIoU' in metrics
    crop = 322 if patch_size == 14 else 320
    assert (tmp_path / 'results' / 'hungarian_metrics.json').is_file()

    picture = next((tmp_path / 'results' / 'vis').iterdir())
    assert Image.open(picture).size[1] == crop
