# Copyright (c) mmuss contributors. All rights reserved.
"""The IL2Vseg demo config trains through tools/train.py (shrunk by
--cfg-options) and logs the usage of its global clusters."""

import glob
import os
import os.path as osp

from helpers import REPO_ROOT, run_tool

IL2VSEG_DEMO = osp.join(
    REPO_ROOT, 'configs', 'il2vseg', 'tiny-vit_synthetic.py'
)


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


def test_il2vseg_demo_trains_through_train_tool(tmp_path):
    work = tmp_path / 'work'
    run_tool(
        'train.py',
        IL2VSEG_DEMO,
        '--work-dir',
        work,
        '--cfg-options',
        *shrink_options(tmp_path / 'data'),
    )
    assert (work / 'iter_2.pth').is_file()
    (log,) = glob.glob(str(work / '*' / '*.log'))
    with open(log) as file:
        text = file.read()
    for key in (
        'decode.loss_smooth',
        'decode.loss_data',
        'decode.loss_fs',
        'decode.loss_reg',
        'decode.loss_corr',
        'decode.usage_used',
        'decode.usage_entropy',
    ):
        assert key in text
    assert 'mIoU' in text
    assert os.path.isdir(work / 'val_results')
