# Copyright (c) mmuss contributors. All rights reserved.
"""Depth priors (mmuss.datasets.preparation.depth): preprocessing sizes,
normalisation, batching by shape, targets of a config, sharding."""

import cv2
import numpy as np
import pytest
import torch
from helpers import demo_config, tiny_depth_anything
from PIL import Image

from mmuss.datasets.preparation.depth import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    DepthTarget,
    depth_targets,
    image_size,
    load_depth_estimator,
    min_max_normalise,
    network_input_size,
    pending_targets,
    precompute_depth,
    preprocess_image,
    shape_batches,
    shard,
    to_uint16,
    write_depth_map,
)


@pytest.mark.parametrize(
    'height, width, input_size, keep, expected',
    [
        # 640 * 518 / 480 = 690.7 -> 49.3 patches -> 686
        (480, 640, 518, True, (518, 686)),
        (640, 480, 518, True, (686, 518)),
        (64, 64, 70, True, (70, 70)),
        # 90 * 70 / 64 = 98.4 -> 7.03 patches -> 98
        (64, 90, 70, True, (70, 98)),
        # not a multiple of 14: the short side becomes 36 * 14 = 504
        (1000, 500, 500, True, (994, 504)),
        (480, 640, 518, False, (518, 518)),
        (480, 640, 500, False, (504, 504)),
    ],
)
def test_network_input_size(height, width, input_size, keep, expected):
    assert network_input_size(height, width, input_size, 14, keep) == (
        expected
    )


def test_network_input_size_refuses_empty_images():
    with pytest.raises(ValueError, match='image 0x5'):
        network_input_size(0, 5)


def test_preprocess_resizes_and_normalises_rgb():
    rgb = np.empty((64, 90, 3), np.uint8)
    rgb[:] = (255, 0, 51)
    pixels = preprocess_image(rgb, input_size=70)
    assert pixels.shape == (3, 70, 98) and pixels.dtype == torch.float32
    for channel, value in enumerate((1.0, 0.0, 0.2)):
        expected = (value - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
        torch.testing.assert_close(
            pixels[channel], torch.full((70, 98), expected)
        )
    square = preprocess_image(rgb, input_size=70, keep_aspect_ratio=False)
    assert square.shape == (3, 70, 70)
    with pytest.raises(ValueError, match=r'\(64, 90\)'):
        preprocess_image(rgb[..., 0], input_size=70)


def test_min_max_normalise_and_uint16():
    depth = torch.tensor([[2.0, 4.0], [6.0, 10.0]])
    normalised, constant = min_max_normalise(depth)
    assert not constant
    torch.testing.assert_close(
        normalised, torch.tensor([[0.0, 0.25], [0.5, 1.0]])
    )
    # 65535 / 4 = 16383.75 and 65535 / 2 = 32767.5 round up
    np.testing.assert_array_equal(
        to_uint16(normalised), [[0, 16384], [32768, 65535]]
    )
    assert to_uint16(normalised).dtype == np.uint16
    zeros, constant = min_max_normalise(torch.full((3, 4), 7.0))
    assert constant and not zeros.any()


def test_write_depth_map_warns_on_constant_and_refuses_nan(tmp_path):
    target = DepthTarget('img/a.jpg', str(tmp_path / 'depth' / 'a.png'))
    with pytest.warns(UserWarning, match='img/a.jpg is constant'):
        write_depth_map(torch.ones(5, 6), target)
    stored = cv2.imread(target.map_path, cv2.IMREAD_UNCHANGED)
    assert stored.dtype == np.uint16 and stored.shape == (5, 6)
    assert not stored.any()
    depth = torch.ones(5, 6)
    depth[1, 2] = float('nan')
    with pytest.raises(ValueError, match='img/a.jpg holds NaN'):
        write_depth_map(depth, target)


def item(shape, index):
    return dict(index=index, pixel_values=torch.zeros(3, *shape))


def test_shape_batches_group_by_shape():
    a, b = (14, 14), (14, 28)
    items = [item(s, i) for i, s in enumerate([a, b, a, a, b, a, b])]
    batches = [
        [x['index'] for x in batch] for batch in shape_batches(items, 2)
    ]
    # a full bucket leaves at once; the remainder at the end
    assert batches == [[0, 2], [1, 4], [3, 5], [6]]


def test_shape_batches_bound_the_waiting_items():
    shapes = [(14, 14), (14, 28), (28, 14), (14, 14), (28, 28)]
    items = [item(s, i) for i, s in enumerate(shapes)]
    batches = list(shape_batches(items, batch_size=4, max_buffered=4))
    indices = [[x['index'] for x in batch] for batch in batches]
    # 4 waiting after item 3: the fullest bucket (0, 3) leaves
    assert indices == [[0, 3], [1], [2], [4]]
    for batch in batches:
        assert len({tuple(x['pixel_values'].shape) for x in batch}) == 1


def test_shard_splits_without_overlap():
    items = list(range(7))
    assert shard(items, 1, 3) == [1, 4]
    parts = [shard(items, rank, 3) for rank in range(3)]
    assert sorted(sum(parts, [])) == items
    with pytest.raises(ValueError, match='rank 3, world_size 3'):
        shard(items, 3, 3)


def test_image_size_follows_exif_rotation(tmp_path):
    path = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate by 90 degrees when displayed
    Image.new('RGB', (40, 20)).save(path, exif=exif)
    assert image_size(path) == cv2.imread(path).shape[:2] == (40, 20)


def scenes_config(tmp_path, map_dir=None):
    cfg = demo_config(tmp_path / 'work', tmp_path / 'data')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(num_train=4, num_val=2, num_test=2)
        if map_dir:
            cfg[loader].dataset.pipeline.insert(
                1, dict(type='LoadDenseMap', name='depth', map_dir=map_dir)
            )
    return cfg


def test_depth_targets_of_a_config(tmp_path):
    cfg = scenes_config(tmp_path)
    cfg.test_dataloader = cfg.val_dataloader  # the same images, once
    targets = depth_targets(cfg, map_dir='priors')
    root = str(tmp_path / 'data')
    assert len(targets) == 6
    for target in targets:
        relative = target.img_path[len(root) + 1 :]
        assert target.map_path == (
            f'{root}/priors/{relative.rsplit(".", 1)[0]}.png'
        )
    assert sum('/train/' in t.img_path for t in targets) == 4
    assert depth_targets(cfg, ['train'], 'priors') == [
        t for t in targets if '/train/' in t.img_path
    ]
    with pytest.raises(KeyError, match='trian'):
        depth_targets(cfg, ['trian'])


def test_depth_targets_follow_the_pipeline_map_dir(tmp_path):
    cfg = scenes_config(tmp_path, map_dir='depth_da2')
    targets = depth_targets(cfg, map_dir='ignored')
    assert len(targets) == 8
    assert all('/depth_da2/' in t.map_path for t in targets)
    cfg.val_dataloader.dataset.pipeline[1]['suffix'] = '.npy'
    with pytest.raises(ValueError, match="suffix='.npy'"):
        depth_targets(cfg)


def test_estimator_loads_safetensors_only(tmp_path):
    model = tiny_depth_anything(tmp_path / 'model')
    loaded = load_depth_estimator(str(tmp_path / 'model'))
    assert not loaded.training
    assert not any(p.requires_grad for p in loaded.parameters())
    for name, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value)
    # a pickled checkpoint is not read
    pickled = tmp_path / 'pickled'
    pickled.mkdir()
    (pickled / 'config.json').write_text(
        (tmp_path / 'model' / 'config.json').read_text()
    )
    torch.save(model.state_dict(), pickled / 'pytorch_model.bin')
    with pytest.raises(OSError, match='pickled.*safetensors'):
        load_depth_estimator(str(pickled))


def test_sharded_processes_share_the_images(tmp_path):
    tiny_depth_anything(tmp_path / 'model')
    estimator = load_depth_estimator(str(tmp_path / 'model'))
    targets = depth_targets(scenes_config(tmp_path))
    first, second = shard(targets, 0, 2), shard(targets, 1, 2)
    assert len(first) == len(second) == 4
    precompute_depth(estimator, first, batch_size=3, num_workers=0,
                     input_size=28)  # fmt: skip
    assert pending_targets(first) == []
    assert pending_targets(second) == second
    precompute_depth(estimator, second, num_workers=0, input_size=28)
    assert pending_targets(targets) == []
