# Copyright (c) mmuss contributors. All rights reserved.
import os.path as osp

import torch
from helpers import REPO_ROOT, demo_config
from mmengine.config import Config
from mmengine.runner import Runner

PROJECT_CONFIG = osp.join(
    REPO_ROOT,
    'projects',
    'example_project',
    'configs',
    'random-projection_tiny-vit_synthetic.py',
)


def test_project_head_trains_through_the_runner(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(REPO_ROOT)
    project = Config.fromfile(PROJECT_CONFIG)
    assert (
        'projects.example_project.example' in project.custom_imports['imports']
    )
    cfg = demo_config(
        tmp_path / 'work', tmp_path / 'data', max_iters=4, val_interval=4
    )
    cfg.model.decode_head = project.model.decode_head
    runner = Runner.from_cfg(cfg)
    runner.train()
    head = runner.model.decode_head
    assert type(head).__name__ == 'RandomProjectionHead'
    codes = head([torch.randn(1, 96, 4, 4)])
    assert codes.shape == (1, 32, 4, 4)
    # an orthogonal projection: rows are orthonormal
    torch.testing.assert_close(
        head.projection @ head.projection.T, torch.eye(32), atol=1e-5, rtol=0
    )


def test_outside_config_uses_mmuss_modules(tmp_path):
    """A config outside the repository, importing mmuss after pip install."""
    config = tmp_path / 'my_config.py'
    config.write_text(f"""
custom_imports = dict(imports=['mmuss'], allow_failed_imports=False)
default_scope = 'mmseg'
work_dir = {str(tmp_path / 'work')!r}
model = dict(
    type='UnsupervisedEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32),
                           mean=[0, 0, 0], std=[255, 255, 255]),
    backbone=dict(type='DINOVisionTransformer',
                  arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                            feedforward_channels=32),
                  patch_size=8, img_size=32),
    decode_head=dict(type='IdentityHead', in_channels=16),
    num_classes=6)
train_dataloader = dict(
    batch_size=2, num_workers=0,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(type='SyntheticScenesDataset',
                 data_root={str(tmp_path / 'data')!r}, num_train=4,
                 num_val=2, image_size=32,
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackSegInputs')]))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3),
                     constructor='TrainableParamsOptimWrapperConstructor')
""")
    cfg = Config.fromfile(str(config))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
