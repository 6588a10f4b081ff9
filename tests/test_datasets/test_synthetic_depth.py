# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
from mmcv.transforms import LoadImageFromFile

from mmuss.datasets import SyntheticScenesDataset
from mmuss.datasets.synthetic import (
    STUFF_CLASSES,
    SYNTHETIC_CLASSES,
    generate_scene,
    synthetic_depth,
)
from mmuss.datasets.transforms import LoadDenseMap

SKY, ROAD, GRASS = (STUFF_CLASSES.index(n) for n in ('sky', 'road', 'grass'))
CAR = SYNTHETIC_CLASSES.index('car')


def test_deterministic_16_bit_min_max():
    _, labels = generate_scene(0, 5, 64)
    first, second = (
        synthetic_depth(labels, 0, 5),
        synthetic_depth(labels, 0, 5),
    )
    assert first.dtype == np.uint16 and np.array_equal(first, second)
    assert first.min() == 0 and first.max() == 65535
    assert not np.array_equal(first, synthetic_depth(labels, 0, 6))


def test_sky_far_things_in_front_regions_of_one_class_differ():
    labels = np.full((48, 48), ROAD, np.uint8)
    labels[:12] = SKY
    labels[30:40, 20:30] = CAR
    labels[14:24, 2:12] = GRASS  # two separate grass regions
    labels[14:24, 36:46] = GRASS
    depth = synthetic_depth(labels, 0, 0).astype(float)  # near = large
    assert depth[labels == SKY].max() < depth[labels != SKY].min()
    car = labels == CAR
    around = np.zeros_like(car)
    around[28:42, 18:32] = True
    around &= ~car
    assert depth[car].mean() > depth[around].mean()
    left, right = depth[14:24, 2:12].mean(), depth[14:24, 36:46].mean()
    assert abs(left - right) > 1000  # a surface per region, not per class


def test_depth_jumps_at_region_boundaries_not_inside():
    _, labels = generate_scene(0, 2, 128)
    depth = synthetic_depth(labels, 0, 2).astype(float)
    step = np.abs(np.diff(depth, axis=1))
    boundary = labels[:, 1:] != labels[:, :-1]
    assert step[boundary].mean() > 10 * step[~boundary].mean()


def test_dataset_writes_maps_that_load_dense_map_reads(tmp_path):
    root = str(tmp_path / 'scenes')
    dataset = SyntheticScenesDataset(
        root, num_train=3, num_val=2, image_size=32, depth_map_dir='depth'
    )
    results = LoadImageFromFile()(dict(dataset[0]))
    results['data_root'] = root
    loaded = LoadDenseMap('depth', 'depth', scale=1 / 65535)(results)
    assert loaded['img'].shape == (32, 32, 4)
    depth = loaded['img'][..., 3]
    assert depth.min() == 0.0 and depth.max() == 1.0
    _, labels = generate_scene(0, 0, 32)
    np.testing.assert_allclose(
        depth * 65535, synthetic_depth(labels, 0, 0), atol=1e-2
    )
