# Copyright (c) mmuss contributors. All rights reserved.
"""Deterministic generator of the embedded synthetic scenes dataset.

Each scene is a partition of the image into regions (a Voronoi diagram with
noise-warped boundaries), every region one of seven "stuff" classes with its
own colour and texture statistics (smooth gradient, speckle, vertical
blades, waves, fine grain, brick pattern, flat with sparse dark dots), with
up to four compact "things" (car, person, ball, sign) drawn over it at
several scales, as COCO-Stuff mixes objects and stuff. Cars and people vary
in colour, so a class is not one colour. Images and label maps are written
in mmseg's folder layout, so the standard loading pipeline reads them. The
same arguments always produce byte-identical files.
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

GENERATOR_VERSION = 2
META_FILE = 'synthetic_scenes.json'

#: Stuff classes fill the background partition, things are compact objects
#: drawn over it (COCO-Stuff's split of classes).
STUFF_CLASSES = (
    'sky',
    'vegetation',
    'grass',
    'water',
    'sand',
    'building',
    'road',
)
THING_CLASSES = ('car', 'person', 'ball', 'sign')
SYNTHETIC_CLASSES = STUFF_CLASSES + THING_CLASSES
SYNTHETIC_PALETTE = [
    [70, 130, 180],
    [107, 142, 35],
    [152, 251, 152],
    [0, 80, 160],
    [220, 200, 120],
    [170, 60, 50],
    [128, 128, 128],
    [0, 0, 142],
    [220, 20, 60],
    [255, 140, 0],
    [220, 220, 0],
]
_STUFF_COLOURS = np.array(
    [
        [0.45, 0.65, 0.95],  # sky
        [0.18, 0.42, 0.16],  # vegetation
        [0.42, 0.62, 0.22],  # grass
        [0.08, 0.30, 0.50],  # water
        [0.86, 0.76, 0.52],  # sand
        [0.66, 0.26, 0.20],  # building (brick)
        [0.42, 0.42, 0.44],  # road
    ]
)
# Car bodies come in several paints: colour alone does not identify a car.
_CAR_PAINTS = np.array(
    [
        [0.80, 0.10, 0.10],
        [0.15, 0.25, 0.75],
        [0.92, 0.92, 0.90],
        [0.12, 0.12, 0.14],
        [0.85, 0.75, 0.10],
    ]
)
_SHIRTS = np.array(
    [[0.85, 0.20, 0.55], [0.20, 0.60, 0.80], [0.95, 0.55, 0.15]]
)


def _stuff_texture(
    class_id: int, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray
) -> np.ndarray:
    """(H, W, 3) texture of one stuff class over the canvas, in [0, 1]."""
    height, width = yy.shape
    colour = _STUFF_COLOURS[class_id] + rng.uniform(-0.05, 0.05, 3)
    colour = colour * rng.uniform(0.9, 1.1)
    canvas = np.broadcast_to(colour, (height, width, 3)).copy()
    noise = rng.standard_normal((height, width, 1))
    name = STUFF_CLASSES[class_id]
    if name == 'sky':  # smooth vertical gradient
        canvas += (0.25 * (1 - yy / height))[..., None] + 0.01 * noise
    elif name == 'vegetation':  # strong speckle, mostly green
        canvas += 0.12 * noise * np.array([0.6, 1.0, 0.5])
    elif name == 'grass':  # fine vertical blades
        blades = rng.standard_normal((1, width, 1))
        canvas += 0.08 * blades + 0.03 * noise
    elif name == 'water':  # horizontal waves
        frequency = rng.uniform(0.3, 0.5)
        phase = rng.uniform(0, 2 * np.pi)
        canvas += (0.08 * np.sin(frequency * yy + phase))[..., None]
        canvas += 0.015 * noise
    elif name == 'sand':  # fine grain
        canvas += 0.05 * noise
    elif name == 'building':  # staggered bricks with light mortar
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


def _thing_mask_and_paint(
    name: str,
    rng: np.random.Generator,
    yy: np.ndarray,
    xx: np.ndarray,
    centre: np.ndarray,
    scale: float,
) -> Tuple[np.ndarray, np.ndarray]:
    """Mask (H, W) of one object and its rendering (H, W, 3)."""
    dy, dx = yy - centre[0], xx - centre[1]
    paint = np.zeros(yy.shape + (3,))
    if name == 'car':  # rounded box, dark window band, two wheels
        half_w, half_h = scale, 0.45 * scale
        body = (np.abs(dx) < half_w) & (np.abs(dy) < half_h)
        wheels = np.zeros_like(body)
        for side in (-0.55, 0.55):
            wheels |= (dx - side * half_w) ** 2 + (dy - half_h) ** 2 < (
                0.3 * scale
            ) ** 2
        mask = body | wheels
        paint[:] = _CAR_PAINTS[rng.integers(len(_CAR_PAINTS))]
        window = body & (dy < -0.05 * scale) & (np.abs(dx) < 0.7 * half_w)
        paint[window] = [0.25, 0.35, 0.45]
        paint[wheels & ~body] = [0.05, 0.05, 0.05]
    elif name == 'person':  # shirt ellipse, legs, skin-tone head
        torso = (dx / (0.35 * scale)) ** 2 + (dy / (0.6 * scale)) ** 2 < 1
        legs = (np.abs(dx) < 0.25 * scale) & (dy > 0) & (dy < 1.3 * scale)
        head = dx**2 + (dy + 0.85 * scale) ** 2 < (0.28 * scale) ** 2
        mask = torso | legs | head
        paint[:] = _SHIRTS[rng.integers(len(_SHIRTS))]
        paint[legs & ~torso] = [0.15, 0.15, 0.35]
        paint[head] = [0.90, 0.70, 0.55]
    elif name == 'ball':  # disc with a radial highlight
        radius = 0.6 * scale
        distance = np.sqrt(dx**2 + dy**2)
        mask = distance < radius
        highlight = np.sqrt(
            (dx + 0.3 * radius) ** 2 + (dy + 0.3 * radius) ** 2
        )
        shade = np.clip(1.1 - 0.6 * highlight / radius, 0.4, 1.1)
        paint[:] = np.array([0.95, 0.55, 0.10])
        paint *= shade[..., None]
    else:  # sign: yellow diamond with a dark rim on a grey pole
        diamond = np.abs(dx) + np.abs(dy) < 0.7 * scale
        rim = diamond & (np.abs(dx) + np.abs(dy) > 0.55 * scale)
        pole = (
            (np.abs(dx) < 0.08 * scale + 0.5) & (dy > 0) & (dy < 1.6 * scale)
        )
        mask = diamond | pole
        paint[:] = [0.5, 0.5, 0.5]
        paint[diamond] = [0.95, 0.85, 0.10]
        paint[rim] = [0.10, 0.10, 0.10]
    paint += 0.02 * rng.standard_normal(yy.shape + (1,))
    return mask, np.clip(paint, 0, 1)


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
    illumination: float = 0.0,
    max_things: int = 4,
) -> Tuple[np.ndarray, np.ndarray]:
    """Render one scene.

    A partition of the canvas into 3-6 stuff regions (a Voronoi diagram
    with noise-warped boundaries), then up to ``max_things`` objects of the
    thing classes at sizes from about a tenth to a third of the image,
    drawn over it (later objects occlude earlier ones).

    Args:
        seed (int): Dataset seed.
        index (int): Scene index; (seed, index) fixes the scene.
        size (int): Height and width in pixels.
        illumination (float): Strength of the per-image lighting
            (:func:`illuminate`); 0 disables it.
        max_things (int): Most objects per scene. Defaults to 4.

    Returns:
        tuple[np.ndarray, np.ndarray]: (size, size, 3) uint8 RGB image and
        (size, size) uint8 label map (ids into :data:`SYNTHETIC_CLASSES`).
    """
    rng = np.random.default_rng([seed, index])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    num_regions = int(rng.integers(3, 7))
    centres = rng.uniform(0, size, (num_regions, 2))
    region_class = rng.integers(0, len(STUFF_CLASSES), num_regions)
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
        image[mask] = _stuff_texture(int(class_id), rng, yy, xx)[mask]
    for _ in range(int(rng.integers(0, max_things + 1))):
        thing = int(rng.integers(len(THING_CLASSES)))
        scale = size * rng.uniform(0.08, 0.22)
        centre = rng.uniform(0.1 * size, 0.9 * size, 2)
        mask, paint = _thing_mask_and_paint(
            THING_CLASSES[thing], rng, yy, xx, centre, scale
        )
        image[mask] = paint[mask]
        labels[mask] = len(STUFF_CLASSES) + thing
    image = illuminate(image, rng, illumination)
    return (image * 255).round().astype(np.uint8), labels


def _expected_meta(
    seed: int,
    num_train: int,
    num_val: int,
    num_test: int,
    test_seed: int,
    size: int,
    illumination: float,
    max_things: int,
) -> Dict:
    return dict(
        generator_version=GENERATOR_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        num_test=num_test,
        test_seed=test_seed,
        size=size,
        illumination=illumination,
        max_things=max_things,
        classes=list(SYNTHETIC_CLASSES),
    )


def _write_split(
    root: str,
    split: str,
    seed: int,
    first_index: int,
    count: int,
    size: int,
    illumination: float,
    max_things: int,
) -> None:
    image_dir = osp.join(root, 'images', split)
    label_dir = osp.join(root, 'annotations', split)
    os.makedirs(image_dir)
    os.makedirs(label_dir)
    for offset in range(count):
        image, labels = generate_scene(
            seed, first_index + offset, size, illumination, max_things
        )
        name = f'{first_index + offset:05d}.png'
        Image.fromarray(image).save(osp.join(image_dir, name))
        Image.fromarray(labels).save(osp.join(label_dir, name))


def held_out_seed(seed: int) -> int:
    """The default generator seed of the held-out ``test`` split."""
    return seed + 1000


def generate_synthetic_scenes(
    data_root: str,
    seed: int = 0,
    num_train: int = 240,
    num_val: int = 48,
    size: int = 128,
    illumination: float = 0.0,
    max_things: int = 4,
    num_test: int = 0,
    test_seed: int | None = None,
) -> str:
    """Write the dataset to ``data_root`` unless it is already there.

    The files are written to a temporary folder beside ``data_root`` and
    moved into place in one rename, so an interrupted run never leaves a
    partial dataset and concurrent processes (distributed training) do not
    collide. Layout: ``images/{train,val,test}/*.png`` (RGB) and
    ``annotations/{train,val,test}/*.png`` (class ids). ``train`` and ``val``
    are scenes 0 .. num_train + num_val - 1 of ``seed``; ``test`` holds
    ``num_test`` scenes of another generator seed (``test_seed``), a
    held-out set for checking generalisation.

    Args:
        data_root (str): Target folder.
        seed (int): Dataset seed. Defaults to 0.
        num_train (int): Training scenes. Defaults to 240.
        num_val (int): Validation scenes. Defaults to 48.
        size (int): Image size. Defaults to 128.
        illumination (float): Per-image lighting strength (see
            :func:`illuminate`). Defaults to 0.
        max_things (int): Most objects per scene. Defaults to 4.
        num_test (int): Held-out scenes. Defaults to 0.
        test_seed (int, optional): Their generator seed. Defaults to
            :func:`held_out_seed` of ``seed``.

    Returns:
        str: ``data_root``.

    Raises:
        FileExistsError: If ``data_root`` holds something else (another
            dataset, or this one generated with other arguments).
    """
    if test_seed is None:
        test_seed = held_out_seed(seed)
    if test_seed == seed and num_test:
        raise ValueError(
            f'test_seed must differ from seed ({seed}): the test split is '
            'a held-out generator seed'
        )
    expected = _expected_meta(
        seed,
        num_train,
        num_val,
        num_test,
        test_seed,
        size,
        illumination,
        max_things,
    )
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
        for split, split_seed, first, count in (
            ('train', seed, 0, num_train),
            ('val', seed, num_train, num_val),
            ('test', test_seed, 0, num_test),
        ):
            _write_split(
                staging,
                split,
                split_seed,
                first,
                count,
                size,
                illumination,
                max_things,
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
