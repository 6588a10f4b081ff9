# Copyright (c) mmuss contributors. All rights reserved.
from helpers import REPO_ROOT
from mmengine.config import Config

from mmuss.utils.benchmarking import data_is_present


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
