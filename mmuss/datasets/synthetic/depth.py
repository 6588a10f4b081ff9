# Copyright (c) mmuss contributors. All rights reserved.
"""A depth sensor for the embedded synthetic scenes.

The demo configs of the depth-using methods (MSSSeg's depth priors, a
second modality for UniM2) need a depth map per scene without a download or
a depth network. The scenes have no 3D geometry of their own, so the
"sensor" gives each connected region a surface: a random distance (per
image and region, not per class), a ground-plane-like vertical ramp (nearer
towards the bottom of the image) and a slight random tilt, plus smooth
sensor noise. Sky is farthest; things stand in front of the region they are
drawn on. Depth therefore jumps at region boundaries (as real depth does at
object boundaries) and says little about the class: two regions of one
class get different depths, two classes can share one.

Maps are 16-bit PNGs of relative inverse depth (near = large), min-max
normalised per image as ``tools/precompute_depth.py`` writes Depth Anything
maps, at ``<data_root>/<map_dir>/<image path>.png`` where
:class:`LoadDenseMap` reads them.
"""

import os
import os.path as osp
from typing import Sequence

import numpy as np
from PIL import Image
from scipy import ndimage

from mmuss.utils.atomic_io import save_image_atomic

from .generator import STUFF_CLASSES

SKY = STUFF_CLASSES.index('sky')
_SKY_DISTANCE = 60.0


def region_distances(
    labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Per-pixel distance (H, W) of a label map: each 8-connected region of
    each class a tilted surface at its own random distance; sky far;
    things in front of the stuff around them.

    Args:
        labels (np.ndarray): (H, W) class ids of the synthetic classes.
        rng (np.random.Generator): Draws the distances and tilts.
    """
    height, width = labels.shape
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    # ground-plane ramp: nearer towards the bottom of the image
    ramp = 1.0 + 6.0 * (1.0 - yy)
    distance = np.zeros(labels.shape)
    stuff = labels < len(STUFF_CLASSES)
    structure = np.ones((3, 3), bool)
    for class_id in np.unique(labels[stuff]):
        regions, count = ndimage.label(labels == class_id, structure)
        for region in range(1, count + 1):
            mask = regions == region
            if class_id == SKY:
                distance[mask] = _SKY_DISTANCE
                continue
            base = rng.uniform(2.0, 20.0)
            tilt = rng.uniform(-2.0, 2.0, 2)
            surface = base + ramp + tilt[0] * yy + tilt[1] * xx
            distance[mask] = surface[mask]
    things, count = ndimage.label(~stuff, structure)
    for thing in range(1, count + 1):
        mask = things == thing
        ring = ndimage.binary_dilation(mask, structure, iterations=2) & stuff
        behind = np.median(distance[ring]) if ring.any() else ramp[mask].mean()
        distance[mask] = behind * rng.uniform(0.5, 0.85)
    return distance


def synthetic_depth(labels: np.ndarray, seed: int, index: int) -> np.ndarray:
    """The sensor's map (H, W) uint16 for scene ``index`` of ``seed``:
    relative inverse depth with smooth noise, min-max normalised to the
    16-bit range. Deterministic in (seed, index)."""
    rng = np.random.default_rng([seed, index, 7])
    distance = region_distances(labels, rng)
    noise = ndimage.gaussian_filter(rng.normal(0, 1, labels.shape), 2.0)
    inverse = 1.0 / distance * (1.0 + 0.02 * noise)
    low, high = inverse.min(), inverse.max()
    scaled = (inverse - low) / max(high - low, 1e-12)
    return np.round(scaled * 65535).astype(np.uint16)


def write_synthetic_depth(
    data_root: str,
    seed: int,
    splits: Sequence[str],
    map_dir: str = 'depth',
    test_seed: int | None = None,
) -> int:
    """Write the sensor's map of every scene of ``splits`` that lacks one
    (atomic writes, so an interrupted run resumes). Scene seeds follow the
    generator: ``seed`` for train and val, ``test_seed`` for test.

    Returns:
        int: The number of maps written.
    """
    written = 0
    for split in splits:
        label_dir = osp.join(data_root, 'annotations', split)
        scene_seed = test_seed if split == 'test' else seed
        for name in sorted(_pngs(label_dir)):
            out = osp.join(data_root, map_dir, 'images', split, name)
            if osp.isfile(out):
                continue
            labels = np.asarray(Image.open(osp.join(label_dir, name)))
            index = int(osp.splitext(name)[0])
            save_image_atomic(synthetic_depth(labels, scene_seed, index), out)
            written += 1
    return written


def _pngs(folder: str):
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'no label folder {folder}: generate the scenes first'
        )
    return [n for n in os.listdir(folder) if n.endswith('.png')]
