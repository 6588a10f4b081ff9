# Copyright (c) mmuss contributors. All rights reserved.
"""The UniM2 configs (configs/unim2/): they build, carry the released
hyperparameters, and take a training step with the tests' tiny ViT."""

import glob
import os.path as osp

import pytest
import torch
from helpers import REPO_ROOT, TINY_VIT, make_samples
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS

import mmuss  # noqa: F401

UNIM2_CONFIGS = sorted(
    p
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', 'unim2', '*.py'))
    if not osp.basename(p).startswith('_')
)


def config_id(path):
    return osp.basename(path)


def test_released_hyperparameters():
    nyu = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/unim2/dinov3_vits16_nyu-depth-v2-13.py')
    )
    head = nyu.model.decode_head
    assert head.channels == 70 and head.in_channels == 384
    assert head.modalities == ('hha',) and head.use_cmh
    assert head.fusion.mode == 'concat_conv' and head.fusion.normalize
    assert head.loss_cmcs.modalities.hha.loss_weight == 0.8889
    assert head.loss_cmcs.modalities.image.shift_rand == 0.5664
    assert head.loss_cmcs.centering == 'stego'
    assert nyu.optim_wrapper.optimizer.lr == 5e-4
    keys = nyu.optim_wrapper.paramwise_cfg.custom_keys
    assert keys.cluster_probe.lr_mult * 5e-4 == pytest.approx(5e-3)
    assert nyu.train_cfg.max_iters == 10000
    assert nyu.train_dataloader.batch_size == 32
    assert 'save_best' not in nyu.default_hooks.checkpoint
    mfnet = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/unim2/dinov3_vitb16_mfnet8.py')
    )
    assert mfnet.model.backbone.arch == 'base'
    assert mfnet.model.decode_head.in_channels == 768
    assert mfnet.model.decode_head.channels == 90
    assert mfnet.optim_wrapper.optimizer.lr == 7.88e-5
    assert mfnet.train_cfg.max_iters == 13000
    thermal = mfnet.model.decode_head.loss_cmcs.modalities.thermal
    assert (thermal.weight_knn, thermal.shift_self) == (0.9124, 0.0096)
    ia = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/unim2/dinov3_vits16_mcubes20_IA.py')
    )
    assert ia.model.decode_head.fusion.mode == 'progressive_conv'
    assert ia.model.decode_head.channels == 320
    assert ia.optim_wrapper.optimizer.lr == 1.59e-5
    assert ia.train_cfg.max_iters == 4000
    assert ia.model.decode_head.loss_cmcs.modalities.aolp.loss_weight == (
        0.3052
    )


@pytest.mark.parametrize('path', UNIM2_CONFIGS, ids=config_id)
def test_unim2_config_trains_a_step_with_tiny_backbone(path, monkeypatch):
    """The config's model, its backbone swapped for the tiny ViT, takes one
    optimizer step from the config's optim_wrapper on inputs packed with
    every modality the data preprocessor declares (KNN positives too)."""
    monkeypatch.syspath_prepend(REPO_ROOT)
    cfg = Config.fromfile(path)
    cfg.model.backbone = dict(TINY_VIT)
    cfg.model.decode_head.in_channels = 32
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.model.linear_probe = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    aux = [
        (spec['name'], spec['channels'])
        for spec in cfg.model.data_preprocessor.aux_channels
    ]
    channels = 3 + sum(c for _, c in aux)
    samples = make_samples(3, 32, 32, model.num_classes)
    for sample in samples:
        sample.set_metainfo(dict(aux_channels=tuple(aux)))
        knn = torch.randint(0, 255, (channels, 32, 32), dtype=torch.uint8)
        sample.knn_img = PixelData(data=knn)
    data = dict(
        inputs=[
            torch.randint(0, 255, (channels, 32, 32), dtype=torch.uint8)
            for _ in range(3)
        ],
        data_samples=samples,
    )
    head = model.decode_head
    before = {n: p.detach().clone() for n, p in head.named_parameters()}
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    moved = {
        n
        for n, p in head.named_parameters()
        if not torch.equal(p.detach(), before[n])
    }
    assert any(n.startswith('linear') for n in moved), moved
    if head.required_modalities:
        assert any(n.startswith('msn.') for n in moved), moved
    if head.cmh is not None:
        assert any(n.startswith('cmh.') for n in moved), moved
    if head.loss_align is not None:
        assert 'decode.loss_align' in log_vars
