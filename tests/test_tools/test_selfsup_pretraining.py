# Copyright (c) mmuss contributors. All rights reserved.
"""The demo backbone's self-supervised pretraining: the mmpretrain config
runs through tools/train.py, its backbone is extracted and loads into the
demo ViT, and the shipped weights are what the demo configs load."""

import os.path as osp

import pytest
import torch
from helpers import REPO_ROOT, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmseg.registry import MODELS

from mmuss.datasets import SyntheticSceneImages
from mmuss.utils.checkpoint_safety import load_checkpoint_file

CONFIG = 'configs/selfsup/densecl_tiny-vit-p8_synthetic.py'
SHIPPED = osp.join(
    REPO_ROOT,
    'configs/_base_/models/weights/tiny-vit-p8_densecl_synthetic.pth',
)


def test_pretraining_config_trains_and_converts(tmp_path):
    work = tmp_path / 'work'
    run_tool(
        'train.py',
        CONFIG,
        '--work-dir',
        work,
        '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path / "scenes"}',
        'train_dataloader.dataset.num_images=8',
        'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'model.queue_len=16',
        'train_cfg.max_iters=3',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.logger.interval=1',
    )
    log = next(work.glob('*/*.log')).read_text()
    assert 'loss_dense' in log and 'Iter(train) [3/3]' in log
    backbone_file = tmp_path / 'backbone.pth'
    run_tool(
        'model_converters/selfsup2backbone.py',
        work / 'iter_3.pth',
        backbone_file,
    )
    trained = load_checkpoint_file(str(work / 'iter_3.pth'))['state_dict']
    extracted = load_checkpoint_file(str(backbone_file))['state_dict']
    assert extracted and all(k.startswith('backbone.') for k in extracted)
    for key, value in extracted.items():
        assert torch.equal(value, trained[key])
    # the demo ViT loads it with every key matched (strict)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/baseline/tiny-vit_synthetic.py')
    )
    backbone_cfg = cfg.model.backbone
    backbone_cfg.init_cfg.checkpoint = str(backbone_file)
    backbone = MODELS.build(backbone_cfg)
    backbone.init_weights()
    for key, value in extracted.items():
        name = key[len('backbone.') :]
        torch.testing.assert_close(backbone.state_dict()[name], value)


@pytest.mark.parametrize(
    'config',
    ['densecl_tiny-vit-p8_synthetic.py', 'mae_tiny-vit-p8_synthetic.py'],
)
def test_pretraining_configs_build(config):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'selfsup', config))
    assert cfg.default_scope == 'mmpretrain'
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = PRETRAIN_MODELS.build(cfg.model)
    assert model.backbone.embed_dims == 96
    assert model.backbone.num_layers == 4
    assert model.backbone.patch_resolution == (16, 16)


def test_pretraining_images_are_generated_unlabelled(tmp_path):
    dataset = SyntheticSceneImages(
        data_root=str(tmp_path / 'scenes'), num_images=5, image_size=32
    )
    assert len(dataset) == 5
    assert 'gt_label' not in dataset.get_data_info(0)


def test_demo_configs_load_the_shipped_weights():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/baseline/tiny-vit_synthetic.py')
    )
    assert cfg.model.backbone.init_cfg.checkpoint == SHIPPED
    assert osp.isfile(SHIPPED)
    shipped = load_checkpoint_file(SHIPPED)['state_dict']
    backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    for key, value in shipped.items():
        torch.testing.assert_close(
            backbone.state_dict()[key[len('backbone.') :]], value.float()
        )
    random_cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/baseline/tiny-vit-random_synthetic.py')
    )
    assert random_cfg.model.backbone.init_cfg is None
