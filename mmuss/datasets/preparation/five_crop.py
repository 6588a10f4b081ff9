# Copyright (c) mmuss contributors. All rights reserved.
"""Offline five-crop training sets (four corners + centre, ratio 0.5)."""

import os.path as osp
from functools import partial
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from mmuss.utils.atomic_io import (
    atomic_path,
    save_image_atomic,
    save_npy_atomic,
)
from mmuss.utils.file_checks import reusable_image

from ..transforms.derived_files import derived_file_path
from ..transforms.five_crop import crop_array, five_crop_boxes
from .common import read_label, read_list, write_list
from .parallel import ConversionError, run_jobs


def crop_path(
    path: str, source_root: str, target_root: str, suffix: str, index: int
) -> str:
    """Path of crop ``index`` of ``path``: moved from ``source_root`` to
    ``target_root`` with ``_crop<index>`` inserted before ``suffix``."""
    relative = osp.relpath(path, source_root)
    if not relative.endswith(suffix):
        raise ConversionError(f'{path} does not end with {suffix!r}')
    return osp.join(
        target_root, f'{relative[: -len(suffix)]}_crop{index}{suffix}'
    )


def dense_map_crop_paths(
    image_path: str,
    source_root: str,
    target_root: str,
    dense_maps: Sequence[Tuple[str, str]],
) -> List[Tuple[str, List[str]]]:
    """For each ``(map_dir, suffix)``, the map of ``image_path`` (where
    ``LoadDenseMap`` / ``LoadModality`` read it) and the paths of its five
    crops, which are where those transforms read the maps of the image's
    crops under ``target_root``."""
    found = []
    for map_dir, suffix in dense_maps:
        path = derived_file_path(image_path, source_root, map_dir, suffix)
        targets = [
            crop_path(path, source_root, target_root, suffix, k)
            for k in range(5)
        ]
        found.append((path, targets))
    return found


def _reusable(path: str) -> bool:
    """An image output that is readable, or an existing ``.npy``."""
    if path.endswith('.npy'):
        return osp.isfile(path)
    return reusable_image(path)


def read_map_as_stored(path: str, image_size: Tuple[int, int]) -> np.ndarray:
    """A dense map or modality file with its stored values and dtype
    (16-bit PNGs stay 16 bit), checked against the image size."""
    if not osp.isfile(path):
        raise ConversionError(
            f'dense map {path} does not exist (the image has a map in every '
            'folder the pipeline loads from)'
        )
    if path.endswith('.npy'):
        with open(path, 'rb') as file:
            values = np.load(file, allow_pickle=False)
    else:
        values = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if values is None:
            raise ConversionError(f'cannot read dense map {path}')
    if tuple(values.shape[:2]) != tuple(image_size):
        raise ConversionError(
            f'dense map {path} is {values.shape[:2]} (H, W) but its image '
            f'is {tuple(image_size)}'
        )
    return values


def save_map_as_stored(values: np.ndarray, path: str) -> None:
    """Write a map crop in the format of its source, atomically."""
    values = np.ascontiguousarray(values)
    if path.endswith('.npy'):
        save_npy_atomic(path, values)
        return
    with atomic_path(path) as tmp_path:
        ok, encoded = cv2.imencode(osp.splitext(path)[1], values)
        if not ok:
            raise ConversionError(f'cannot encode dense map crop {path}')
        with open(tmp_path, 'wb') as file:
            file.write(encoded.tobytes())


def _crop_one(
    info: dict,
    source_root: str,
    target_root: str,
    img_suffix: str,
    seg_map_suffix: str,
    ratio: float,
    dense_maps: Sequence[Tuple[str, str]] = (),
) -> None:
    image_path = info['img_path']
    label_path = info.get('seg_map_path')
    maps = dense_map_crop_paths(
        image_path, source_root, target_root, dense_maps
    )
    targets = [
        (
            crop_path(image_path, source_root, target_root, img_suffix, k),
            crop_path(label_path, source_root, target_root, seg_map_suffix, k)
            if label_path
            else None,
        )
        for k in range(5)
    ]
    if all(
        reusable_image(i) and (lab is None or reusable_image(lab))
        for i, lab in targets
    ) and all(_reusable(p) for _, crops in maps for p in crops):
        return
    try:
        with Image.open(image_path) as opened:
            image = np.array(opened.convert('RGB'))
    except Exception as error:
        raise ConversionError(
            f'cannot read image {image_path}: {error}'
        ) from error
    label = read_label(label_path) if label_path else None
    if label is not None and label.shape[:2] != image.shape[:2]:
        raise ConversionError(
            f'label {label_path} is {label.shape[:2]} but '
            f'image {image_path} is {image.shape[:2]}'
        )
    boxes = five_crop_boxes(*image.shape[:2], ratio)
    for map_path, crop_targets in maps:
        values = read_map_as_stored(map_path, image.shape[:2])
        for box, target in zip(boxes, crop_targets):
            save_map_as_stored(crop_array(values, box), target)
    for box, (image_target, label_target) in zip(boxes, targets):
        if label is not None:
            save_image_atomic(
                np.ascontiguousarray(crop_array(label, box)), label_target
            )
        save_image_atomic(
            np.ascontiguousarray(crop_array(image, box)),
            image_target,
            quality=95,
        )


def _write_crop_list(ann_file: str, source_root: str, target_root: str) -> str:
    """Write the dataset's image list with every name expanded to its
    crops, image-major (``<name>_crop0`` ... ``_crop4``, as upstream STEGO
    numbers its crops ``5 * i + k``), to the list's relative place under
    ``target_root``; return its path."""
    names = read_list(ann_file)
    target = osp.join(target_root, osp.relpath(ann_file, source_root))
    write_list([f'{name}_crop{k}' for name in names for k in range(5)], target)
    return target


def five_crop_dataset(
    dataset,
    target_root: str,
    ratio: float = 0.5,
    nproc: int = 1,
    source_root: str | None = None,
    dense_maps: Optional[Sequence[Tuple[str, str]]] = None,
) -> int:
    """Write the five crops of every image (and label) of a dataset.

    The crops keep the dataset's folder structure and suffixes under
    ``target_root`` (``<stem>_crop<k><suffix>``, k = 0-4 in
    :func:`five_crop_boxes` order), so the same dataset class reads them
    with ``data_root=target_root``. An image list (``ann_file``) is written
    to the same relative place with each name expanded to its five crops.
    Labels keep their values (255 stays ignore). The files of
    ``dense_maps`` (stacked dense maps and modality images, e.g. HHA or
    thermal) are cropped with the same boxes and keep their values and
    format, at the places ``LoadDenseMap`` / ``LoadModality`` read the
    crops' maps from (``<target_root>/<map_dir>/<crop path>``). Existing
    crops are skipped.

    Args:
        dataset (BaseSegDataset): The dataset to crop (its ``data_list``
            gives the files).
        target_root (str): Output folder.
        ratio (float): Crop side / image side. Defaults to 0.5.
        nproc (int): Worker processes.
        source_root (str, optional): Folder the dataset's paths are
            relative to; defaults to ``dataset.data_root``.
        dense_maps (Sequence[tuple], optional): ``(map_dir, suffix)`` of
            each map folder to crop along (see
            :func:`dense_maps_of_pipeline`). Defaults to none.

    Returns:
        int: Number of images cropped.
    """
    if not getattr(dataset, 'ALLOW_FIVE_CROP', True):
        raise ConversionError(
            f'{type(dataset).__name__} is never five-cropped in the '
            'protocol (Potsdam patches are trained on whole)'
        )
    source_root = source_root or dataset.data_root
    dataset.full_init()
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    run_jobs(
        partial(
            _crop_one,
            source_root=source_root,
            target_root=target_root,
            img_suffix=dataset.img_suffix,
            seg_map_suffix=dataset.seg_map_suffix,
            ratio=ratio,
            dense_maps=tuple(dense_maps or ()),
        ),
        infos,
        nproc,
        f'five-crop {type(dataset).__name__}',
    )
    if dataset.ann_file:
        _write_crop_list(dataset.ann_file, source_root, target_root)
    return len(infos)


DENSE_MAP_TRANSFORMS = ('LoadDenseMap', 'LoadModality')


def dense_maps_of_pipeline(pipeline: Sequence[dict]) -> List[Tuple[str, str]]:
    """``(map_dir, suffix)`` of every ``LoadDenseMap`` / ``LoadModality``
    of a pipeline config: the folders :func:`five_crop_dataset` must crop
    along with the images.

    Raises:
        ConversionError: For such a transform with its own ``data_root``
            (its maps are not under the dataset's root).
    """
    found = []
    for transform in pipeline:
        if transform.get('type') not in DENSE_MAP_TRANSFORMS:
            continue
        if transform.get('data_root'):
            raise ConversionError(
                f'{transform["type"]} {transform.get("name")!r} reads maps '
                f'under its own data_root {transform["data_root"]!r}; '
                'five-crop them separately'
            )
        map_dir = transform.get('map_dir') or transform.get('modality_dir')
        found.append((map_dir, transform.get('suffix', '.png')))
    return found
