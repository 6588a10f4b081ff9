# Copyright (c) mmuss contributors. All rights reserved.
"""Each method's demo config trains through tools/train.py (shrunk by
--cfg-options), evaluates, and logs its loss terms and the usage of its
clusters."""

import glob
import os
import os.path as osp

import pytest
from helpers import REPO_ROOT, run_tool

#: method folder -> the loss terms and usage scalars its log must show
LOGGED = {
    'ds2dl': (
        'decode.loss_pair',
        'decode.loss_l2g',
        'decode.loss_orth',
        'decode.loss_data',
    ),
    'il2vseg': (
        'decode.loss_smooth',
        'decode.loss_data',
        'decode.loss_fs',
        'decode.loss_reg',
        'decode.loss_corr',
    ),
}


def shrink_options(data_root):
    options = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.dataset.num_train=16',
            f'{loader}.dataset.num_val=8',
            f'{loader}.dataset.num_test=4',
            f'{loader}.dataset.image_size=64',
            f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
            f'{loader}.batch_size=4',
        ]
    return options + [
        'model.backbone.img_size=64',
        'model.data_preprocessor.size=(64,64)',
        'train_cfg.max_iters=2',
        'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]


@pytest.mark.parametrize('method', sorted(LOGGED))
def test_demo_trains_through_train_tool(tmp_path, method):
    work = tmp_path / 'work'
    run_tool(
        'train.py',
        osp.join(REPO_ROOT, 'configs', method, 'tiny-vit_synthetic.py'),
        '--work-dir',
        work,
        '--cfg-options',
        *shrink_options(tmp_path / 'data'),
    )
    assert (work / 'iter_2.pth').is_file()
    (log,) = glob.glob(str(work / '*' / '*.log'))
    with open(log) as file:
        text = file.read()
    for key in (*LOGGED[method], 'decode.usage_used', 'decode.usage_entropy'):
        assert key in text
    assert 'mIoU' in text
    assert os.path.isdir(work / 'val_results')
