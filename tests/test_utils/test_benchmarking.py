# Copyright (c) mmuss contributors. All rights reserved.
from helpers import REPO_ROOT
from mmengine.config import Config

from mmuss.utils.benchmarking import data_is_present, drop_class_count_check


def test_absent_datasets_are_detected_whatever_mmseg_raises(tmp_path):
    # an ann_file-listed dataset (mmseg asserts the list file exists) and a
    # folder dataset, both under a root that does not exist
    cfg = Config.fromfile(
        f'{REPO_ROOT}/configs/ds2dl/dino_vits8_cocostuff27.py'
    )
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'absent')
    assert not data_is_present(cfg, 'train_dataloader')
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/stego/dino_vits8_potsdam3.py')
    inner = cfg.train_dataloader.dataset
    while 'dataset' in inner:
        inner = inner.dataset
    inner.data_root = str(tmp_path / 'absent')
    assert not data_is_present(cfg, 'train_dataloader')


def test_class_count_check_is_dropped_only_for_more_classes():
    cfg = Config.fromfile(
        f'{REPO_ROOT}/configs/ds2dl/dino_vits8_cocostuff27.py'
    )
    assert any(h.type == 'ClassCountCheckHook' for h in cfg.custom_hooks)
    drop_class_count_check(cfg)  # 27 > 11 synthetic classes
    assert not any(h.type == 'ClassCountCheckHook' for h in cfg.custom_hooks)
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/stego/dino_vits8_potsdam3.py')
    drop_class_count_check(cfg)  # 3 classes: labels folded, check kept
    assert any(h.type == 'ClassCountCheckHook' for h in cfg.custom_hooks)
