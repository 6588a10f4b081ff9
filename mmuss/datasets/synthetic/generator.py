# Copyright (c) mmuss contributors. All rights reserved.
"""Deterministic generator of the embedded synthetic scenes dataset.

Each scene is a partition of the image into regions (a Voronoi diagram with
noise-warped boundaries); every region shows one of six classes, each with
its own colour and texture statistics (smooth gradient, speckle, waves, fine
grain, brick pattern, flat with sparse dark dots). Images and label maps are
written in mmseg's folder layout, so the standard loading pipeline reads
them. The same arguments always produce byte-identical files.
"""

import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from mmuss.utils.atomic_io import default_file_mode

GENERATOR_VERSION = 1
META_FILE = 'synthetic_scenes.json'

SYNTHETIC_CLASSES = ('sky', 'vegetation', 'water', 'sand', 'brick', 'road')
SYNTHETIC_PALETTE = [
    [70, 130, 180],
    [107, 142, 35],
    [0, 80, 160],
    [220, 200, 120],
    [170, 60, 50],
    [128, 128, 128],
]
_BASE_COLOURS = np.array(
    [
        [0.45, 0.65, 0.95],
        [0.18, 0.50, 0.16],
        [0.08, 0.30, 0.50],
        [0.86, 0.76, 0.52],
        [0.66, 0.26, 0.20],
        [0.42, 0.42, 0.44],
    ]
)


def _texture(
    class_id: int, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray
) -> np.ndarray:
    """(H, W, 3) texture of one class over the whole canvas, in [0, 1]."""
    height, width = yy.shape
    colour = _BASE_COLOURS[class_id] + rng.uniform(-0.05, 0.05, 3)
    colour = colour * rng.uniform(0.9, 1.1)
    canvas = np.broadcast_to(colour, (height, width, 3)).copy()
    noise = rng.standard_normal((height, width, 1))
    if class_id == 0:  # sky: smooth vertical gradient
        canvas += (0.25 * (1 - yy / height))[..., None] + 0.01 * noise
    elif class_id == 1:  # vegetation: strong speckle, mostly green
        canvas += 0.12 * noise * np.array([0.6, 1.0, 0.5])
    elif class_id == 2:  # water: horizontal waves
        frequency = rng.uniform(0.3, 0.5)
        phase = rng.uniform(0, 2 * np.pi)
        canvas += (0.08 * np.sin(frequency * yy + phase))[..., None]
        canvas += 0.015 * noise
    elif class_id == 3:  # sand: fine grain
        canvas += 0.05 * noise
    elif class_id == 4:  # brick: staggered bricks with light mortar
        row = (yy // 6).astype(int)
        shifted = xx + 6 * (row % 2)
        mortar = (yy % 6 < 1) | (shifted % 12 < 1)
        canvas[mortar] = 0.8
        canvas += 0.02 * noise
    else:  # road: flat grey with sparse dark dots
        dots = rng.random((height, width)) < 0.03
        canvas[dots] -= 0.25
        canvas += 0.02 * noise
    return np.clip(canvas, 0, 1)


def illuminate(
    image: np.ndarray, rng: np.random.Generator, strength: float
) -> np.ndarray:
    """Per-image lighting: a random colour gain per channel and a linear
    brightness ramp in a random direction, both of relative size up to
    ``strength``; a nuisance that changes every region of an image alike."""
    if strength <= 0:
        return image
    size = image.shape[0]
    gain = 1 + rng.uniform(-strength, strength, 3)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1) - 0.5
    ramp = 1 + strength * (np.cos(angle) * xx + np.sin(angle) * yy)
    return np.clip(image * gain * ramp[..., None], 0, 1)


def generate_scene(
    seed: int,
    index: int,
    size: int,
    num_classes: int = len(SYNTHETIC_CLASSES),
    illumination: float = 0.0,
) -> Tuple[np.ndarray, np.ndarray]:
    """Render one scene.

    Args:
        seed (int): Dataset seed.
        index (int): Scene index; (seed, index) fixes the scene.
        size (int): Height and width in pixels.
        num_classes (int): Number of classes to draw regions from.
        illumination (float): Strength of the per-image lighting
            (:func:`illuminate`); 0 disables it.

    Returns:
        tuple[np.ndarray, np.ndarray]: (size, size, 3) uint8 RGB image and
        (size, size) uint8 label map.
    """
    rng = np.random.default_rng([seed, index])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    num_regions = int(rng.integers(3, 7))
    centres = rng.uniform(0, size, (num_regions, 2))
    region_class = rng.integers(0, num_classes, num_regions)
    # Low-frequency warp gives organic, non-polygonal region boundaries.
    warp_y = 6 * np.sin(xx / rng.uniform(8, 16) + rng.uniform(0, 6))
    warp_x = 6 * np.sin(yy / rng.uniform(8, 16) + rng.uniform(0, 6))
    distances = ((yy + warp_y)[None] - centres[:, 0, None, None]) ** 2 + (
        (xx + warp_x)[None] - centres[:, 1, None, None]
    ) ** 2
    labels = region_class[distances.argmin(axis=0)].astype(np.uint8)
    image = np.zeros((size, size, 3))
    for class_id in np.unique(labels):
        mask = labels == class_id
        image[mask] = _texture(int(class_id), rng, yy, xx)[mask]
    image = illuminate(image, rng, illumination)
    return (image * 255).round().astype(np.uint8), labels


def _expected_meta(
    seed: int, num_train: int, num_val: int, size: int, illumination: float
) -> Dict:
    meta = dict(
        generator_version=GENERATOR_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        size=size,
        classes=list(SYNTHETIC_CLASSES),
    )
    if illumination > 0:  # absent when off: files are those of version 1
        meta['illumination'] = illumination
    return meta


def _write_split(
    root: str,
    split: str,
    seed: int,
    first_index: int,
    count: int,
    size: int,
    illumination: float = 0.0,
) -> None:
    image_dir = osp.join(root, 'images', split)
    label_dir = osp.join(root, 'annotations', split)
    os.makedirs(image_dir)
    os.makedirs(label_dir)
    for offset in range(count):
        image, labels = generate_scene(
            seed, first_index + offset, size, illumination=illumination
        )
        name = f'{first_index + offset:05d}.png'
        Image.fromarray(image).save(osp.join(image_dir, name))
        Image.fromarray(labels).save(osp.join(label_dir, name))


def generate_synthetic_scenes(
    data_root: str,
    seed: int = 0,
    num_train: int = 240,
    num_val: int = 48,
    size: int = 128,
    illumination: float = 0.0,
) -> str:
    """Write the dataset to ``data_root`` unless it is already there.

    The files are written to a temporary folder beside ``data_root`` and
    moved into place in one rename, so an interrupted run never leaves a
    partial dataset and concurrent processes (distributed training) do not
    collide. Layout: ``images/{train,val}/*.png`` (RGB) and
    ``annotations/{train,val}/*.png`` (class ids 0-5).

    Args:
        data_root (str): Target folder.
        seed (int): Dataset seed. Defaults to 0.
        num_train (int): Training scenes. Defaults to 240.
        num_val (int): Validation scenes. Defaults to 48.
        size (int): Image size. Defaults to 128.
        illumination (float): Per-image lighting strength (see
            :func:`illuminate`). Defaults to 0.

    Returns:
        str: ``data_root``.

    Raises:
        FileExistsError: If ``data_root`` holds something else (another
            dataset, or this one generated with other arguments).
    """
    expected = _expected_meta(seed, num_train, num_val, size, illumination)
    meta_path = osp.join(data_root, META_FILE)
    if osp.isfile(meta_path):
        with open(meta_path) as file:
            found = json.load(file)
        if found != expected:
            raise FileExistsError(
                f'{data_root} holds synthetic scenes generated with '
                f'{found}, not {expected}; choose another data_root'
            )
        return data_root
    if (
        osp.isdir(data_root)
        and os.listdir(data_root)
        and not osp.isfile(meta_path)
    ):
        raise FileExistsError(
            f'{data_root} is not empty and is not a synthetic scenes dataset'
        )
    parent = osp.dirname(osp.abspath(data_root))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.synthetic-', dir=parent)
    # mkdtemp makes a 0700 folder; the dataset is shared like any folder
    os.chmod(staging, default_file_mode(directory=True))
    try:
        _write_split(staging, 'train', seed, 0, num_train, size, illumination)
        _write_split(
            staging, 'val', seed, num_train, num_val, size, illumination
        )
        with open(osp.join(staging, META_FILE), 'w') as file:
            json.dump(expected, file, indent=2)
        if osp.isdir(data_root) and not os.listdir(data_root):
            os.rmdir(data_root)
        try:
            os.rename(staging, data_root)
        except OSError:
            if not osp.isfile(meta_path):  # not a concurrent winner
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return data_root
