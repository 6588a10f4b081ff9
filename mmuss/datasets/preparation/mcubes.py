# Copyright (c) mmuss contributors. All rights reserved.
"""MCubeS (RGB, AoLP, DoLP, NIR; 20 materials) -> mmuss layout."""

import os.path as osp
from functools import partial
from typing import Dict, Sequence

import numpy as np

from .common import check_known_values, read_list, write_label
from .multimodal import (
    all_reusable,
    check_size,
    min_max_to_uint8,
    read_image_file,
    read_npy_file,
    read_unchanged,
    sample_targets,
    to_uint8,
    write_image,
    write_splits,
)
from .parallel import ConversionError, run_jobs

MCUBES_MODALITIES = ('aolp', 'dolp', 'nir')
MCUBES_SPLITS = ('train', 'val', 'test')
LEFT_OFFSET = 192
# GT ids: 0-19 the materials, 255 unlabelled
MCUBES_LABEL_IDS = tuple(range(20)) + (255,)


def crop_left(array: np.ndarray, left_offset: int) -> np.ndarray:
    """Drop the ``left_offset`` leftmost columns, as the official MCubeS
    loader and UniM2 do for every array (``[:, 192:]``)."""
    return np.ascontiguousarray(array[:, left_offset:])


def encode_aolp(sin: np.ndarray, cos: np.ndarray) -> np.ndarray:
    """UniM2's 3-channel AoLP image (H, W, 3): the sine and cosine maps each
    scaled to 8 bits per image (:func:`min_max_to_uint8`) and stacked as
    (sin, cos, sin)."""
    sin_u8, cos_u8 = min_max_to_uint8(sin), min_max_to_uint8(cos)
    return np.stack([sin_u8, cos_u8, sin_u8], axis=2)


def encode_dolp(dolp: np.ndarray) -> np.ndarray:
    """UniM2's DoLP image (H, W): scaled to 8 bits per image; replicated to
    3 channels when loaded (``LoadModality(encoding='replicate')``)."""
    return min_max_to_uint8(dolp)


def read_rgb(path: str) -> np.ndarray:
    """``polL_color`` image as 8-bit RGB (16 bit: high byte)."""
    bgr = read_unchanged(path, 'RGB')
    if bgr.ndim != 3 or bgr.shape[2] != 3:
        raise ConversionError(
            f'RGB file {path} must have 3 channels, got {bgr.shape}'
        )
    return to_uint8(np.ascontiguousarray(bgr[..., ::-1]), path)


def read_nir(path: str) -> np.ndarray:
    """``NIR_warped`` image as 8-bit single channel (16 bit: high byte)."""
    nir = read_unchanged(path, 'NIR')
    if nir.ndim != 2:
        raise ConversionError(
            f'NIR file {path} must be single-channel, got {nir.shape}'
        )
    return to_uint8(nir, path)


def source_paths(source_root: str, name: str) -> Dict[str, str]:
    """The official files of image set ``name``."""
    return dict(
        label=osp.join(source_root, 'GT', f'{name}.png'),
        img=osp.join(source_root, 'polL_color', f'{name}.png'),
        nir=osp.join(source_root, 'NIR_warped', f'{name}.png'),
        aolp_sin=osp.join(source_root, 'polL_aolp_sin', f'{name}.npy'),
        aolp_cos=osp.join(source_root, 'polL_aolp_cos', f'{name}.npy'),
        dolp=osp.join(source_root, 'polL_dolp', f'{name}.npy'),
    )


def _read_set(paths: Dict[str, str]) -> Dict[str, np.ndarray]:
    """Every array of an image set, checked against the label's size."""
    label = read_image_file(paths['label'], 'label')
    if label.ndim != 2:
        raise ConversionError(
            f'label file {paths["label"]} must be single-channel, got '
            f'{label.shape}'
        )
    check_known_values(label, MCUBES_LABEL_IDS, paths['label'])
    arrays = dict(
        label=label,
        img=read_rgb(paths['img']),
        nir=read_nir(paths['nir']),
        aolp_sin=read_npy_file(paths['aolp_sin'], 'AoLP sin'),
        aolp_cos=read_npy_file(paths['aolp_cos'], 'AoLP cos'),
        dolp=read_npy_file(paths['dolp'], 'DoLP'),
    )
    for key, array in arrays.items():
        check_size(array, label.shape, paths[key], paths['label'])
        if not np.isfinite(array).all():
            raise ConversionError(f'{paths[key]} holds NaN or infinite values')
    return arrays


def _convert_one(
    name: str, source_root: str, data_root: str, left_offset: int
) -> None:
    targets = sample_targets(data_root, name, MCUBES_MODALITIES)
    if all_reusable(targets):
        return
    paths = source_paths(source_root, name)
    arrays = {
        key: crop_left(array, left_offset)
        for key, array in _read_set(paths).items()
    }
    if arrays['label'].shape[1] == 0:
        raise ConversionError(
            f'{paths["label"]} is not wider than left_offset={left_offset}'
        )
    write_image(
        encode_aolp(arrays['aolp_sin'], arrays['aolp_cos']), targets['aolp']
    )
    write_image(encode_dolp(arrays['dolp']), targets['dolp'])
    write_image(arrays['nir'], targets['nir'])
    write_label(arrays['label'], targets['label'])
    write_image(arrays['img'], targets['img'])


def convert_mcubes(
    source_root: str,
    data_root: str,
    nproc: int = 1,
    left_offset: int = LEFT_OFFSET,
    splits: Sequence[str] = MCUBES_SPLITS,
) -> Dict[str, int]:
    """Convert the official MCubeS dataset to the mmuss layout.

    Expects the official folder (``multimodal_dataset``, UniM2's
    ``MCUBES/MCubeS``): ``polL_color/<id>.png`` (RGB, 8 or 16 bit),
    ``polL_aolp_sin/<id>.npy``, ``polL_aolp_cos/<id>.npy``,
    ``polL_dolp/<id>.npy``, ``NIR_warped/<id>.png``, ``GT/<id>.png`` (0-19,
    255 unlabelled) and ``list_folder/<split>.txt``. Every array loses its
    ``left_offset`` leftmost columns (:func:`crop_left`), then the RGB
    image, the encoded AoLP (:func:`encode_aolp`), DoLP
    (:func:`encode_dolp`) and NIR images and the label are written as PNGs,
    with ``splits/<split>.txt``. Finished image sets are skipped, so an
    interrupted run resumes.

    Args:
        source_root (str): The official folder.
        data_root (str): Output folder.
        nproc (int): Worker processes.
        left_offset (int): Columns dropped on the left. Defaults to 192
            (official loader and UniM2; the region outside the warped NIR
            camera's view, which ``NIR_warped_mask`` marks invalid).
        splits (Sequence[str]): The lists to convert. Defaults to train,
            val and test (UniM2 trains on train and evaluates on test).

    Returns:
        dict[str, int]: Images per split.
    """
    if left_offset < 0:
        raise ValueError(f'left_offset must be >= 0, got {left_offset}')
    lists = osp.join(source_root, 'list_folder')
    listed = {s: read_list(osp.join(lists, f'{s}.txt')) for s in splits}
    names = sorted({name for names in listed.values() for name in names})
    run_jobs(
        partial(
            _convert_one,
            source_root=source_root,
            data_root=data_root,
            left_offset=left_offset,
        ),
        names,
        nproc,
        'MCubeS',
    )
    write_splits(data_root, listed)
    return {split: len(names) for split, names in listed.items()}
