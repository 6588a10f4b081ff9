# Copyright (c) mmuss contributors. All rights reserved.
"""Offline five-crop training sets (four corners + centre, ratio 0.5)."""

import os.path as osp
from functools import partial

import numpy as np
from PIL import Image

from mmuss.utils.atomic_io import save_image_atomic
from mmuss.utils.file_checks import reusable_image

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


def _crop_one(
    info: dict,
    source_root: str,
    target_root: str,
    img_suffix: str,
    seg_map_suffix: str,
    ratio: float,
) -> None:
    image_path = info['img_path']
    label_path = info.get('seg_map_path')
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
    ):
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
    for box, (image_target, label_target) in zip(
        five_crop_boxes(*image.shape[:2], ratio), targets
    ):
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
) -> int:
    """Write the five crops of every image (and label) of a dataset.

    The crops keep the dataset's folder structure and suffixes under
    ``target_root`` (``<stem>_crop<k><suffix>``, k = 0-4 in
    :func:`five_crop_boxes` order), so the same dataset class reads them
    with ``data_root=target_root``. An image list (``ann_file``) is written
    to the same relative place with each name expanded to its five crops.
    Labels keep their values (255 stays ignore). Existing crops are
    skipped.

    Args:
        dataset (BaseSegDataset): The dataset to crop (its ``data_list``
            gives the files).
        target_root (str): Output folder.
        ratio (float): Crop side / image side. Defaults to 0.5.
        nproc (int): Worker processes.
        source_root (str, optional): Folder the dataset's paths are
            relative to; defaults to ``dataset.data_root``.

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
        ),
        infos,
        nproc,
        f'five-crop {type(dataset).__name__}',
    )
    if dataset.ann_file:
        _write_crop_list(dataset.ann_file, source_root, target_root)
    return len(infos)
