# Copyright (c) mmuss contributors. All rights reserved.
"""MaSTr1325 (maritime obstacle segmentation) -> 3 classes, mmseg layout."""

import os
import os.path as osp
from functools import partial
from typing import Dict

import numpy as np

from mmuss.utils.file_checks import reusable_image

from .common import (
    check_known_values,
    check_same_size,
    link_or_copy,
    lookup,
    read_label,
    write_label,
    write_list,
)
from .parallel import ConversionError, run_jobs

IMAGE_DIR = 'MaSTr1325_images_512x384'
MASK_DIR = 'MaSTr1325_masks_512x384'
# mask values: 0 obstacles and environment, 1 water, 2 sky, 4 unknown
_LOOKUP = [0, 1, 2, 255, 255] + [255] * 251


def mastr_mask_to_classes(mask: np.ndarray) -> np.ndarray:
    """Map MaSTr1325 mask values to 3 classes; "unknown" (4) -> 255."""
    return lookup(mask, _LOOKUP)


def _convert_one(name: str, source_root: str, data_root: str) -> None:
    image = osp.join(source_root, IMAGE_DIR, f'{name}.jpg')
    mask_path = osp.join(source_root, MASK_DIR, f'{name}m.png')
    image_target = osp.join(data_root, 'img_dir', 'all', f'{name}.jpg')
    label_target = osp.join(data_root, 'ann_dir', 'all', f'{name}.png')
    if reusable_image(image_target) and reusable_image(label_target):
        return
    if not osp.isfile(mask_path):
        raise ConversionError(f'image {image} has no mask {mask_path}')
    mask = read_label(mask_path)
    check_known_values(mask, (0, 1, 2, 4), mask_path)
    check_same_size(image, mask_path, mask)
    write_label(mastr_mask_to_classes(mask), label_target)
    link_or_copy(image, image_target)


def split_names(names, val_fraction: float, seed: int):
    """Deterministic train/val split of sorted names."""
    names = sorted(names)
    order = np.random.default_rng(seed).permutation(len(names))
    num_val = int(round(val_fraction * len(names)))
    val = sorted(names[i] for i in order[:num_val])
    train = sorted(names[i] for i in order[num_val:])
    return train, val


def convert_mastr1325(
    source_root: str,
    data_root: str,
    nproc: int = 1,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Dict[str, int]:
    """Convert MaSTr1325 to ``img_dir/all`` and ``ann_dir/all``.

    Expects the official folders ``MaSTr1325_images_512x384/<id>.jpg`` and
    ``MaSTr1325_masks_512x384/<id>m.png`` (0 obstacles and environment,
    1 water, 2 sky, 4 unknown) under ``source_root``. The dataset has no
    official split and IL2Vseg does not state one: ``splits/all.txt`` lists
    every image and ``splits/{train,val}.txt`` a seeded split with
    ``val_fraction`` of the images for validation.

    Args:
        source_root (str): Folder with the two official folders.
        data_root (str): Output folder.
        nproc (int): Worker processes.
        val_fraction (float): Validation share. Defaults to 0.2.
        seed (int): Split seed. Defaults to 0.

    Returns:
        dict[str, int]: Images per split.
    """
    folder = osp.join(source_root, IMAGE_DIR)
    if not osp.isdir(folder):
        raise ConversionError(f'folder {folder} does not exist')
    names = sorted(n[:-4] for n in os.listdir(folder) if n.endswith('.jpg'))
    run_jobs(
        partial(_convert_one, source_root=source_root, data_root=data_root),
        names,
        nproc,
        'MaSTr1325',
    )
    train, val = split_names(names, val_fraction, seed)
    for split, listed in (('all', names), ('train', train), ('val', val)):
        write_list(listed, osp.join(data_root, 'splits', f'{split}.txt'))
    return dict(all=len(names), train=len(train), val=len(val))
