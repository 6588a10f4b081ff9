# Copyright (c) mmuss contributors. All rights reserved.
"""Helpers shared by the multi-modal converters (NYU-Depth-v2, MFNet,
MCubeS): the mmuss layout of an image set and the readers and encoders of
the official files."""

import io
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np
from PIL import Image

from mmuss.utils.file_checks import reusable_image

from .common import write_label, write_list
from .parallel import ConversionError


def image_target(data_root: str, name: str) -> str:
    """``<data_root>/img_dir/all/<name>.png``: the RGB image."""
    return osp.join(data_root, 'img_dir', 'all', f'{name}.png')


def label_target(data_root: str, name: str) -> str:
    """``<data_root>/ann_dir/all/<name>.png``: the label map."""
    return osp.join(data_root, 'ann_dir', 'all', f'{name}.png')


def modality_target(data_root: str, modality: str, name: str) -> str:
    """``<data_root>/<modality>/img_dir/all/<name>.png``: where
    ``LoadModality(modality_dir=modality)`` finds the modality of the image
    :func:`image_target` (its path under ``data_root`` below the
    modality's folder)."""
    return osp.join(data_root, modality, 'img_dir', 'all', f'{name}.png')


def sample_targets(
    data_root: str, name: str, modalities: Sequence[str]
) -> Dict[str, str]:
    """Every output of image set ``name``: ``'img'``, ``'label'`` and one
    entry per modality."""
    targets = dict(
        img=image_target(data_root, name), label=label_target(data_root, name)
    )
    for modality in modalities:
        targets[modality] = modality_target(data_root, modality, name)
    return targets


def all_reusable(targets: Dict[str, str]) -> bool:
    """Whether every output exists and is readable (a resumed run skips
    the image set)."""
    return all(reusable_image(path) for path in targets.values())


def read_image_file(path: str, what: str) -> np.ndarray:
    """An image file as stored (PIL: RGB(A) order, 8 or 16 bit), the
    message naming the file when it is missing or unreadable."""
    if not osp.isfile(path):
        raise ConversionError(f'{what} file {path} does not exist')
    try:
        with Image.open(path) as image:
            return np.array(image)
    except Exception as error:
        raise ConversionError(
            f'cannot read {what} file {path}: {error}'
        ) from error


def read_unchanged(path: str, what: str) -> np.ndarray:
    """An image file with its stored bit depth (OpenCV, colour in BGR
    order; PIL would cut 16-bit colour PNGs to 8 bits), the message naming
    the file when it is missing or unreadable."""
    if not osp.isfile(path):
        raise ConversionError(f'{what} file {path} does not exist')
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ConversionError(f'cannot read {what} file {path}')
    return array


def read_npy_file(path: str, what: str) -> np.ndarray:
    """A 2-D numeric ``.npy`` array (read without pickle), the message
    naming the file when it is missing, unreadable or not 2-D."""
    if not osp.isfile(path):
        raise ConversionError(f'{what} file {path} does not exist')
    try:
        with open(path, 'rb') as file:
            array = np.load(io.BytesIO(file.read()), allow_pickle=False)
    except Exception as error:
        raise ConversionError(
            f'cannot read {what} file {path}: {error}'
        ) from error
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise ConversionError(
            f'{what} file {path} must hold a 2-D numeric array, got '
            f'{array.dtype} {array.shape}'
        )
    return array


def single_channel_label(label: np.ndarray, path: str) -> np.ndarray:
    """A label map (H, W): a (H, W, k) file must repeat one channel (UniM2
    reads the first channel of NYU and MFNet labels)."""
    if label.ndim == 2:
        return label
    if label.ndim == 3 and (label == label[..., :1]).all():
        return label[..., 0]
    raise ConversionError(
        f'label file {path} must be single-channel, got shape {label.shape}'
    )


def to_uint8(array: np.ndarray, path: str) -> np.ndarray:
    """An 8-bit image from an 8- or 16-bit one (16 bit: the high byte,
    ``value >> 8``, as UniM2 reads MCubeS)."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    raise ConversionError(
        f'image file {path} must be 8 or 16 bit, got {array.dtype}'
    )


def min_max_to_uint8(array: np.ndarray) -> np.ndarray:
    """UniM2's per-image scaling of a polarisation map to 8 bits:
    ``floor(255 (x - min) / (max - min))``, all zero when ``max - min``
    is at most 1e-6."""
    array = array.astype(np.float64)
    low, high = float(array.min()), float(array.max())
    if high - low <= 1e-6:
        return np.zeros(array.shape, np.uint8)
    scaled = (array - low) / (high - low) * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def check_size(array: np.ndarray, size, path: str, label_path: str) -> None:
    """Fail when ``array`` (read from ``path``) is not ``size`` (H, W),
    the size of the label ``label_path``."""
    if tuple(array.shape[:2]) != tuple(size):
        raise ConversionError(
            f'{path} is {array.shape[0]}x{array.shape[1]} (HxW) but its '
            f'label {label_path} is {size[0]}x{size[1]}'
        )


def write_image(array: np.ndarray, path: str) -> None:
    """Write an 8-bit image (H, W) or (H, W, 3 RGB) as PNG, atomically."""
    write_label(np.ascontiguousarray(array), path)


def write_splits(data_root: str, splits: Dict[str, Sequence[str]]) -> None:
    """``<data_root>/splits/<split>.txt`` for every split."""
    for split, names in splits.items():
        write_list(names, osp.join(data_root, 'splits', f'{split}.txt'))
