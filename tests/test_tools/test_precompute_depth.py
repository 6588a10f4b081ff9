# Copyright (c) mmuss contributors. All rights reserved.
"""tools/precompute_depth.py: a (tiny, random) Depth Anything model's maps
of the train, val and test images, resumable, read by LoadDenseMap."""

import os
import os.path as osp
import sys
import warnings

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import REPO_ROOT, demo_config, import_tool, tiny_depth_anything
from mmengine.config import Config
from mmseg.registry import DATASETS

from mmuss.datasets import SampleLoadError
from mmuss.datasets.transforms import dense_map_path

DEPTH_SNIPPET = osp.join(
    REPO_ROOT, 'configs', '_base_', 'datasets', 'depth_anything_v2.py'
)
INPUT_SIZE = 70  # 64 px scenes -> 5x5 patches of 14


def depth_config(tmp_path):
    """The demo scenes (4 train, 2 val, 2 test) with the shipped depth
    snippet's LoadDenseMap (map_dir moved to depth_da2) in every pipeline,
    packed by PackUSSInputs."""
    cfg = demo_config(tmp_path / 'work', tmp_path / 'data')
    load = dict(Config.fromfile(DEPTH_SNIPPET).load_depth, map_dir='depth_da2')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        dataset.update(num_train=4, num_val=2, num_test=2)
        dataset.pipeline.insert(1, load)
        dataset.pipeline[-1] = dict(type='PackUSSInputs')
    path = tmp_path / 'depth.py'
    cfg.dump(str(path))
    return cfg, path


def image_and_map_paths(cfg):
    pairs = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = DATASETS.build(dict(cfg[loader].dataset, pipeline=[]))
        for i in range(len(dataset)):
            img_path = dataset.get_data_info(i)['img_path']
            pairs.append(
                (
                    img_path,
                    dense_map_path(
                        img_path, dataset.data_root, 'depth_da2', '.png'
                    ),
                )
            )
    return pairs


def reference_map(model, img_path):
    """The model called directly: the release's preprocessing written out
    (RGB / 255, bicubic to 70x70, ImageNet mean/std), its prediction
    resized bilinearly to the image and min-max scaled to 0..65535."""
    rgb = cv2.imread(img_path)[..., ::-1].astype(np.float32) / 255
    resized = cv2.resize(
        rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_CUBIC
    )
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    pixels = torch.from_numpy((resized - mean) / std).permute(2, 0, 1)
    with torch.no_grad():
        depth = model(pixel_values=pixels[None]).predicted_depth
    depth = F.interpolate(
        depth[None], rgb.shape[:2], mode='bilinear', align_corners=False
    )[0, 0].double()
    return (
        (depth - depth.min()) / (depth.max() - depth.min()) * 65535
    ).numpy()


def run_depth_tool(config, model_dir, monkeypatch, capsys):
    """``main()`` of the tool in this process (no interpreter start-up);
    returns its stdout and the messages of its warnings."""
    argv = [config, '--model', model_dir, '--device', 'cpu']
    argv += ['--num-workers', 0, '--batch-size', 3]
    argv += ['--input-size', INPUT_SIZE]
    monkeypatch.setattr(sys, 'argv', ['precompute_depth.py', *map(str, argv)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        import_tool('precompute_depth.py').main()
    return capsys.readouterr().out, [str(w.message) for w in caught]


def test_tool_writes_resumes_and_feeds_the_pipeline(
    tmp_path, monkeypatch, capsys
):
    model = tiny_depth_anything(tmp_path / 'model')
    cfg, config = depth_config(tmp_path)
    out, _ = run_depth_tool(config, tmp_path / 'model', monkeypatch, capsys)
    assert '0 of 8 maps exist and are complete; computing 8' in out
    assert 'ms/image' in out
    pairs = image_and_map_paths(cfg)
    assert {osp.basename(osp.dirname(m)) for _, m in pairs} == {
        'train',
        'val',
        'test',
    }
    maps = {}
    for img_path, map_path in pairs:
        stored = cv2.imread(map_path, cv2.IMREAD_UNCHANGED)
        assert stored.dtype == np.uint16
        assert stored.shape == cv2.imread(img_path).shape[:2] == (64, 64)
        assert stored.min() == 0 and stored.max() == 65535
        expected = reference_map(model, img_path)
        np.testing.assert_allclose(stored, expected, atol=1)
        maps[map_path] = stored
    # a rerun keeps complete maps; a damaged or wrongly sized one is
    # rebuilt, named in a warning
    damaged, wrong_size = pairs[1][1], pairs[6][1]
    with open(damaged, 'r+b') as file:
        file.truncate(30)
    cv2.imwrite(wrong_size, np.zeros((32, 32), np.uint16))
    kept = pairs[0][1]
    mtime = os.stat(kept).st_mtime_ns
    out, warned = run_depth_tool(
        config, tmp_path / 'model', monkeypatch, capsys
    )
    assert '6 of 8 maps exist and are complete; computing 2' in out
    assert any(
        m.startswith(f'rebuilding {damaged}: unreadable') for m in warned
    )
    assert f'rebuilding {wrong_size}: is 32x32, expected 64x64' in warned
    assert os.stat(kept).st_mtime_ns == mtime
    for map_path, before in maps.items():
        after = cv2.imread(map_path, cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(after, before)
    # then everything is complete: nothing is computed, nothing warned
    out, warned = run_depth_tool(
        config, tmp_path / 'model', monkeypatch, capsys
    )
    assert '8 of 8 maps exist and are complete; computing 0' in out
    assert not [m for m in warned if 'rebuilding' in m]
    # the config's pipeline stacks D = map / 65535 onto the image
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    sample = dataset[0]
    img_path = sample['data_samples'].img_path
    map_path = dict(pairs)[img_path]
    assert sample['inputs'].shape == (4, 64, 64)
    expected = maps[map_path] / 65535
    np.testing.assert_allclose(
        sample['inputs'][3].numpy(), expected, rtol=1e-6, atol=1e-7
    )
    # a missing map names the tool
    os.remove(map_path)
    with pytest.raises(SampleLoadError) as info:
        dataset[0]
    assert map_path in str(info.value)
    assert 'python tools/precompute_depth.py' in str(info.value)
