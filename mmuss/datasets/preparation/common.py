# Copyright (c) mmuss contributors. All rights reserved.
"""Helpers shared by the dataset converters."""

import os
import os.path as osp
import shutil
from typing import Iterable, Sequence, Tuple

import numpy as np
from PIL import Image

from mmuss.utils.atomic_io import atomic_path, save_image_atomic
from mmuss.utils.file_checks import reusable_image

from .parallel import ConversionError


def read_label(path: str) -> np.ndarray:
    """Read a label PNG as stored (palette PNGs give their indices)."""
    if not osp.isfile(path):
        raise ConversionError(f'label file {path} does not exist')
    try:
        with Image.open(path) as image:
            return np.array(image)
    except Exception as error:
        raise ConversionError(
            f'cannot read label file {path}: {error}'
        ) from error


def image_size(path: str) -> Tuple[int, int]:
    """(height, width) of an image file, read from its header."""
    if not osp.isfile(path):
        raise ConversionError(f'image file {path} does not exist')
    try:
        with Image.open(path) as image:
            return image.size[1], image.size[0]
    except Exception as error:
        raise ConversionError(
            f'cannot read image file {path}: {error}'
        ) from error


def check_same_size(
    image_path: str, label_path: str, label: np.ndarray
) -> None:
    """Fail when an image and its label map differ in size."""
    size = image_size(image_path)
    if size != label.shape[:2]:
        raise ConversionError(
            f'label {label_path} is {label.shape[0]}x{label.shape[1]} but '
            f'image {image_path} is {size[0]}x{size[1]}'
        )


def check_known_values(
    label: np.ndarray, known: Iterable[int], path: str
) -> None:
    """Fail when ``label`` holds ids outside ``known``, naming them."""
    unknown = np.setdiff1d(np.unique(label), np.asarray(list(known)))
    if unknown.size:
        raise ConversionError(
            f'label file {path} holds unknown label ids {unknown.tolist()}'
        )


def lookup(label: np.ndarray, table: Sequence[int]) -> np.ndarray:
    """Map label ids through ``table`` (a 256-entry lookup table)."""
    return np.asarray(table, dtype=np.uint8)[label]


def write_label(label: np.ndarray, path: str) -> None:
    """Write a uint8 label map atomically."""
    save_image_atomic(label.astype(np.uint8), path)


def link_or_copy(source: str, target: str) -> None:
    """Place ``source`` at ``target`` (hard link if possible, else copy),
    atomically; existing targets are kept."""
    if reusable_image(target):
        return
    if not osp.isfile(source):
        raise ConversionError(f'image file {source} does not exist')
    with atomic_path(target) as tmp_path:
        os.remove(tmp_path)
        try:
            os.link(source, tmp_path)
        except OSError:
            shutil.copyfile(source, tmp_path)


def read_list(path: str) -> list:
    """Non-empty, stripped lines of a list file."""
    if not osp.isfile(path):
        raise ConversionError(f'list file {path} does not exist')
    with open(path) as file:
        return [line.strip() for line in file if line.strip()]


def write_list(names: Iterable[str], path: str) -> None:
    """Write one name per line, atomically."""
    with atomic_path(path) as tmp_path:
        with open(tmp_path, 'w') as file:
            file.writelines(f'{name}\n' for name in names)
