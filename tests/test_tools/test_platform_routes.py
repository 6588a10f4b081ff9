# Copyright (c) mmuss contributors. All rights reserved.
"""Each platform route the coming methods need, proved end to end through
``tools/train.py`` and ``tools/test.py`` (whole and sliding-window
inference) with a toy head (tests/route_heads.py) that fails unless the
route delivers, in training and at test time."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from helpers import (
    REPO_ROOT,
    demo_config,
    depth_demo_config,
    modality_demo_config,
)

from mmuss.utils.checkpoint_safety import load_checkpoint_file

TESTS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def colour_route(work_dir, data_root):
    """The normalised image in the head (IL2Vseg)."""
    cfg = demo_config(work_dir, data_root, max_iters=4, val_interval=4)
    cfg.model.data_preprocessor.type = 'USSDataPreProcessor'
    cfg.model.decode_head = dict(
        type='ColourAwareHead', in_channels=96, channels=8
    )
    return cfg


def depth_route(work_dir, data_root):
    """A dense float map in training and at test time (MSSSeg)."""
    cfg = depth_demo_config(work_dir, data_root, max_iters=4, val_interval=4)
    cfg.model.decode_head = dict(
        type='DepthAwareHead', in_channels=96, channels=8
    )
    return cfg


def learned_view_route(work_dir, data_root):
    """A learned module before the frozen backbone trained through it, a
    view made inside the model, and test-time averaging over generated
    views (MSSSeg's StructAug)."""
    cfg = demo_config(work_dir, data_root, max_iters=4, val_interval=4)
    cfg.model.data_preprocessor.type = 'USSDataPreProcessor'
    cfg.model.backbone_grad = True
    cfg.model.view_generators = dict(
        learned=dict(type='PixelAffineView'),
        hflip=dict(type='HorizontalFlipView'),
    )
    cfg.model.decode_head = dict(
        type='LearnedViewHead', in_channels=96, channels=8
    )
    cfg.model.test_cfg = dict(tta_views=['hflip', 'learned'])
    return cfg


def modality_route(work_dir, data_root):
    """Two aligned modalities through the shared frozen backbone (UniM2),
    with the dense CRF on the image at test time."""
    cfg = modality_demo_config(
        work_dir, data_root, max_iters=4, val_interval=4
    )
    cfg.model.decode_head = dict(
        type='TwoModalityHead', in_channels=96, channels=8
    )
    cfg.model.test_cfg = dict(use_crf=True, crf=dict(num_workers=1))
    return cfg


def dinov3_modality_route(work_dir, data_root):
    """Two modalities through a tiny random DINOv3-shaped backbone
    (patch 16, RoPE, 4 registers; UniM2's encoder)."""
    cfg = modality_route(work_dir, data_root)
    cfg.model.backbone = dict(
        type='DINOv3VisionTransformer',
        arch=dict(
            embed_dims=32, num_layers=2, num_heads=2, ffn_ratio=2.0, ffn='mlp'
        ),
        patch_size=16,
    )
    cfg.model.decode_head.in_channels = 32
    return cfg


ROUTES = dict(
    colour=colour_route,
    depth=depth_route,
    learned_view=learned_view_route,
    modality=modality_route,
    dinov3_modality=dinov3_modality_route,
)


def run(*args):
    env = dict(
        os.environ,
        CUDA_VISIBLE_DEVICES='',
        PYTHONPATH=os.pathsep.join(
            [TESTS_DIR, REPO_ROOT, os.environ.get('PYTHONPATH', '')]
        ),
    )
    result = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Each route's config on disk and its checkpoint after tools/train.py
    (one data root: the routes share the scenes)."""
    root = tmp_path_factory.mktemp('routes')
    runs = {}
    for name, build in ROUTES.items():
        cfg = build(root / name, root / 'data')
        cfg.custom_imports = dict(
            imports=['mmuss', 'route_heads'], allow_failed_imports=False
        )
        config = root / f'{name}.py'
        cfg.dump(str(config))
        run('tools/train.py', config, '--work-dir', root / name)
        checkpoint = root / name / 'iter_4.pth'
        state = load_checkpoint_file(str(checkpoint))['state_dict']
        runs[name] = (config, checkpoint, state)
    return root, runs


def test_training_reaches_what_only_the_route_delivers(trained):
    _, runs = trained
    depth_state = runs['depth'][2]
    weight = depth_state['decode_head.depth_weight']
    assert not torch.equal(weight, torch.ones_like(weight))
    view_state = runs['learned_view'][2]
    gain = view_state['view_generators.learned.gain']
    assert not torch.equal(gain, torch.ones_like(gain))
    # the backbone stayed frozen although the view trained through it
    for key, value in view_state.items():
        if key.startswith('backbone.'):
            torch.testing.assert_close(value, runs['colour'][2][key])
    assert 'decode_head.fusion.project.0.weight' in runs['modality'][2]
    dinov3 = runs['dinov3_modality'][2]
    assert 'decode_head.fusion.project.0.weight' in dinov3
    assert any(key.startswith('backbone.vit.') for key in dinov3)
    assert 'decode_head.colour_projection.weight' in runs['colour'][2]


@pytest.mark.parametrize('name', sorted(ROUTES))
@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_tools_test_evaluates_the_route(trained, name, mode):
    root, runs = trained
    config, checkpoint, _ = runs[name]
    out = root / f'{name}_{mode}'
    options = []
    if mode == 'slide':
        options = [
            '--cfg-options',
            'model.test_cfg.mode=slide',
            'model.test_cfg.crop_size=(32,32)',
            'model.test_cfg.stride=(32,32)',
        ]
    run('tools/test.py', config, checkpoint, '--work-dir', out, *options)
    with open(out / 'test_results' / 'hungarian_metrics.json') as file:
        metrics = json.load(file)['metrics']
    assert 0 < metrics['mIoU'] <= 100
