# Copyright (c) mmuss contributors. All rights reserved.
"""tools/precompute_primaps.py: proposals of every training image written
as mask maps, resumable, then read by PriMaPs-EM training."""

import numpy as np
import pytest
import torch
from helpers import primaps_demo_config, run_tool
from mmengine.runner import Runner
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from mmuss.datasets import SampleLoadError
from mmuss.datasets.transforms import pseudo_mask_path
from mmuss.models.utils.primaps import (
    principal_mask_proposals,
    refine_proposals,
)


def run_primaps_tool(config, *args):
    return run_tool(
        'precompute_primaps.py',
        config,
        '--num-workers',
        0,
        '--batch-size',
        4,
        *args,
    ).stdout


def mask_paths(cfg):
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg.pipeline = [  # no flip, no photometric view: as the tool
        dict(type='LoadImageFromFile'),
        dict(type='ResizeCenterCrop', size=64),
        dict(type='PackSegInputs'),
    ]
    dataset = DATASETS.build(dataset_cfg)
    return dataset, [
        pseudo_mask_path(
            dataset.get_data_info(i)['img_path'],
            dataset.data_root,
            'primaps/tiny-vit',
        )
        for i in range(len(dataset))
    ]


def test_tool_writes_resumes_and_feeds_training(tmp_path):
    cfg = primaps_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_epochs=2, online=False
    )
    config = tmp_path / 'primaps.py'
    cfg.dump(str(config))
    out = run_primaps_tool(config, '--no-crf')
    assert '0 of 16 maps exist and are complete; computing 16' in out
    dataset, paths = mask_paths(cfg)
    maps = [np.array(Image.open(path)) for path in paths]
    assert all(m.shape == (64, 64) and m.dtype == np.uint8 for m in maps)
    # the proposals of the (seeded) demo backbone's features, upsampled;
    # the tool's first batch of 4
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    images = [dataset[i]['inputs'] for i in range(4)]
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=images), False)
        feats = model.decode_head._transform_inputs(
            model.extract_feat(data['inputs'])
        )
        ids = principal_mask_proposals(feats, psi=cfg.model.decode_head.psi)
    rgb = torch.stack(images).flip(1).permute(0, 2, 3, 1)
    expected = refine_proposals(ids, rgb, crf=None).numpy()
    np.testing.assert_array_equal(np.stack(maps[:4]), expected)
    # several masks per scene (small ones fall to the median filter)
    assert max(len(np.unique(m)) for m in maps) >= 3
    # an interrupted run resumes: only the missing maps are computed
    for path in paths[:3]:
        type(tmp_path)(path).unlink()
    out = run_primaps_tool(config, '--no-crf')
    assert '13 of 16 maps exist and are complete; computing 3' in out
    for path, before in zip(paths, maps):
        assert np.array_equal(np.array(Image.open(path)), before)
    # a damaged map (cut short) or one of the wrong size is rebuilt, named
    with open(paths[5], 'r+b') as file:
        file.truncate(40)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(paths[6])
    result = run_tool(
        'precompute_primaps.py',
        config,
        '--num-workers',
        0,
        '--no-crf',
    )
    assert '14 of 16 maps exist and are complete; computing 2' in (
        result.stdout
    )
    assert f'rebuilding {paths[5]}: unreadable' in result.stderr
    assert f'rebuilding {paths[6]}: is 32x32, expected 64x64' in result.stderr
    for path, before in zip(paths, maps):
        assert np.array_equal(np.array(Image.open(path)), before)
    # with the dense CRF (the default) the maps are refined, same format
    for path in paths[:2]:
        type(tmp_path)(path).unlink()
    run_primaps_tool(config, '--crf-workers', '1')
    refined = np.array(Image.open(paths[0]))
    assert refined.shape == (64, 64) and refined.max() <= 255
    # training reads the maps (no on-line proposals)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert int(runner.model.decode_head.steps) == 8


def test_corrupt_mask_is_named_when_loaded(tmp_path):
    cfg = primaps_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_epochs=2, online=False
    )
    config = tmp_path / 'primaps.py'
    cfg.dump(str(config))
    run_primaps_tool(config, '--no-crf')
    _, paths = mask_paths(cfg)
    with open(paths[0], 'r+b') as file:
        file.truncate(40)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    index = next(
        i
        for i in range(len(dataset))
        if pseudo_mask_path(
            dataset.get_data_info(i)['img_path'],
            dataset.data_root,
            'primaps/tiny-vit',
        )
        == paths[0]
    )
    with pytest.raises(SampleLoadError, match='cannot read mask map') as info:
        dataset[index]
    assert paths[0] in str(info.value)
    assert 'precompute_primaps.py' in str(info.value)


def test_tool_needs_a_mask_loader(tmp_path):
    cfg = primaps_demo_config(tmp_path / 'work', tmp_path / 'data')
    config = tmp_path / 'online.py'
    cfg.dump(str(config))
    result = run_tool('precompute_primaps.py', config, check=False)
    assert result.returncode != 0
    assert 'LoadPseudoMask' in result.stderr
