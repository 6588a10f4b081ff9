# Copyright (c) mmuss contributors. All rights reserved.
"""Cityscapes gtFine labelIds -> the 27 classes of the unsupervised
protocol (labelId - 7 for ids 7-33, everything else ignored)."""

import os
import os.path as osp
from functools import partial
from typing import Dict

import numpy as np

from mmuss.utils.file_checks import reusable_image

from .common import (
    check_known_values,
    check_same_size,
    lookup,
    read_label,
    write_label,
)
from .parallel import ConversionError, run_jobs

_LOOKUP = [255] * 7 + list(range(27)) + [255] * (256 - 34)
IMAGE_SUFFIX = '_leftImg8bit.png'
SOURCE_SUFFIX = '_gtFine_labelIds.png'
LABEL_SUFFIX = '_gtFine_labelTrainIds27.png'
SPLITS = ('train', 'val')


def label_ids_to_27(label: np.ndarray) -> np.ndarray:
    """Map Cityscapes labelIds to classes 0-26 (labelId - 7); ids 0-6 and
    the license plate (-1, stored as 255) become 255."""
    return lookup(label, _LOOKUP)


def _convert_one(relative: str, data_root: str, split: str) -> None:
    stem = relative[: -len(IMAGE_SUFFIX)]
    image = osp.join(data_root, 'leftImg8bit', split, relative)
    source = osp.join(data_root, 'gtFine', split, stem + SOURCE_SUFFIX)
    target = osp.join(data_root, 'gtFine', split, stem + LABEL_SUFFIX)
    if reusable_image(target):
        return
    if not osp.isfile(source):
        raise ConversionError(f'image {image} has no label file {source}')
    label = read_label(source)
    check_known_values(label, list(range(34)) + [255], source)
    check_same_size(image, source, label)
    write_label(label_ids_to_27(label), target)


def _images(data_root: str, split: str) -> list:
    folder = osp.join(data_root, 'leftImg8bit', split)
    if not osp.isdir(folder):
        raise ConversionError(
            f'folder {folder} does not exist; unpack '
            'leftImg8bit_trainvaltest.zip there'
        )
    found = []
    for city in sorted(os.listdir(folder)):
        for name in sorted(os.listdir(osp.join(folder, city))):
            if name.endswith(IMAGE_SUFFIX):
                found.append(osp.join(city, name))
    return found


def convert_cityscapes27(
    data_root: str, nproc: int = 1, splits=SPLITS
) -> Dict[str, int]:
    """Write ``gtFine/<split>/<city>/<name>_gtFine_labelTrainIds27.png``.

    Expects ``leftImg8bit/{train,val}/<city>/*_leftImg8bit.png`` and
    ``gtFine/{train,val}/<city>/*_gtFine_labelIds.png`` (the official
    ``leftImg8bit_trainvaltest.zip`` and ``gtFine_trainvaltest.zip``).
    Existing outputs are skipped.

    Args:
        data_root (str): Dataset folder.
        nproc (int): Worker processes.
        splits (Sequence[str]): Splits to convert.

    Returns:
        dict[str, int]: Number of images per split (2,975 / 500).
    """
    counts = {}
    for split in splits:
        images = _images(data_root, split)
        run_jobs(
            partial(_convert_one, data_root=data_root, split=split),
            images,
            nproc,
            f'Cityscapes-27 {split}',
        )
        counts[split] = len(images)
    return counts
