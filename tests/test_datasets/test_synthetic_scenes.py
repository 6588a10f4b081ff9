# Copyright (c) mmuss contributors. All rights reserved.
import hashlib
import json
import os

import numpy as np
import pytest
from PIL import Image

from mmuss.datasets import SyntheticScenesDataset
from mmuss.datasets.synthetic import (
    STUFF_CLASSES,
    SYNTHETIC_CLASSES,
    THING_CLASSES,
    generate_scene,
    generate_synthetic_scenes,
)


def digest(root):
    sha = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            with open(os.path.join(folder, name), 'rb') as file:
                sha.update(name.encode() + file.read())
    return sha.hexdigest()


def test_generation_is_deterministic(tmp_path):
    first = generate_synthetic_scenes(
        str(tmp_path / 'a'), num_train=6, num_val=2, size=48
    )
    second = generate_synthetic_scenes(
        str(tmp_path / 'b'), num_train=6, num_val=2, size=48
    )
    assert digest(first) == digest(second)
    other_seed = generate_synthetic_scenes(
        str(tmp_path / 'c'), seed=1, num_train=6, num_val=2, size=48
    )
    assert digest(other_seed) != digest(first)
    assert sorted(os.listdir(tmp_path / 'a' / 'images' / 'val')) == [
        '00006.png',
        '00007.png',
    ]
    # no staging folder is left behind
    assert sorted(os.listdir(tmp_path)) == ['a', 'b', 'c']


def test_scenes_have_several_classes_with_distinct_statistics():
    colours = {c: [] for c in range(len(SYNTHETIC_CLASSES))}
    textures = {c: [] for c in range(len(SYNTHETIC_CLASSES))}
    for index in range(60):
        image, labels = generate_scene(0, index, 64)
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert labels.max() < len(SYNTHETIC_CLASSES)
        for class_id in np.unique(labels):
            mask = labels == class_id
            colours[class_id].append(image[mask].mean(0))
            textures[class_id].append(
                np.abs(np.diff(image.astype(float), axis=1))[
                    mask[:, 1:]
                ].mean()
            )
    assert all(colours.values()), 'every class appears'
    stuff = [SYNTHETIC_CLASSES.index(n) for n in STUFF_CLASSES]
    mean_colour = np.stack([np.mean(colours[c], 0) for c in stuff])
    distances = np.linalg.norm(
        mean_colour[:, None] - mean_colour[None], axis=-1
    )
    assert distances[np.triu_indices(len(stuff), 1)].min() > 15
    sky = SYNTHETIC_CLASSES.index('sky')
    vegetation = SYNTHETIC_CLASSES.index('vegetation')
    # sky is smooth, vegetation speckled
    assert np.mean(textures[vegetation]) > 4 * np.mean(textures[sky])


def test_things_are_compact_objects_on_stuff_at_several_scales():
    areas = {name: [] for name in THING_CLASSES}
    for index in range(200):
        _, labels = generate_scene(0, index, 128)
        for offset, name in enumerate(THING_CLASSES):
            area = (labels == len(STUFF_CLASSES) + offset).sum()
            if area:
                areas[name].append(area)
    for name, found in areas.items():
        assert len(found) > 20, name
        # from small to large objects: the largest at least 6x the smallest
        assert max(found) > 6 * min(found), name
        # things stay compact: well under a quarter of the image
        assert np.median(found) < 128 * 128 / 8, name


def test_held_out_split_comes_from_another_seed(tmp_path):
    root = generate_synthetic_scenes(
        str(tmp_path / 'a'), num_train=2, num_val=1, size=32, num_test=2
    )
    test_image = np.array(Image.open(f'{root}/images/test/00000.png'))
    expected, _ = generate_scene(1000, 0, 32)
    np.testing.assert_array_equal(test_image, expected)
    train_image = np.array(Image.open(f'{root}/images/train/00000.png'))
    assert not np.array_equal(train_image, test_image)
    with pytest.raises(ValueError, match='test_seed must differ'):
        generate_synthetic_scenes(str(tmp_path / 'b'), num_test=1, test_seed=0)
    dataset = SyntheticScenesDataset(
        data_root=root,
        split='test',
        num_train=2,
        num_val=1,
        num_test=2,
        image_size=32,
    )
    assert len(dataset) == 2
    with pytest.raises(ValueError, match='num_test'):
        SyntheticScenesDataset(data_root=root, split='test', generate=False)


def test_existing_dataset_is_reused_and_conflicts_are_refused(tmp_path):
    root = str(tmp_path / 'scenes')
    generate_synthetic_scenes(root, num_train=2, num_val=1, size=32)
    marker = os.path.join(root, 'images', 'train', '00000.png')
    mtime = os.path.getmtime(marker)
    generate_synthetic_scenes(root, num_train=2, num_val=1, size=32)
    assert os.path.getmtime(marker) == mtime
    with pytest.raises(FileExistsError, match='generated with'):
        generate_synthetic_scenes(root, num_train=3, num_val=1, size=32)
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not empty'):
        generate_synthetic_scenes(str(other))


def test_dataset_loads_generated_files(tmp_path):
    root = str(tmp_path / 'scenes')
    dataset = SyntheticScenesDataset(
        data_root=root,
        split='val',
        num_train=4,
        num_val=3,
        image_size=40,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs'),
        ],
    )
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == SYNTHETIC_CLASSES
    sample = dataset[0]
    assert sample['inputs'].shape == (3, 40, 40)
    labels = sample['data_samples'].gt_sem_seg.data
    expected = np.array(
        Image.open(os.path.join(root, 'annotations', 'val', '00004.png'))
    )
    assert (labels[0].numpy() == expected).all()
    meta = json.load(open(os.path.join(root, 'synthetic_scenes.json')))
    assert meta['num_val'] == 3
    with pytest.raises(ValueError, match='split'):
        SyntheticScenesDataset(data_root=root, split='test')
