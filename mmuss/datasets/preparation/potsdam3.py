# Copyright (c) mmuss contributors. All rights reserved.
"""IIC's Potsdam patches (.mat) -> PNG images and 3-class labels."""

import os.path as osp
from functools import partial
from typing import Dict

import numpy as np
from scipy.io import loadmat

from mmuss.utils.atomic_io import save_image_atomic
from mmuss.utils.file_checks import reusable_image

from .common import (
    check_known_values,
    lookup,
    read_list,
    write_label,
    write_list,
)
from .parallel import ConversionError, run_jobs

# IIC's 6 ids: 0 road (impervious), 1 building, 2 low vegetation, 3 tree,
# 4 car, 5 clutter; 255 unlabelled.
POTSDAM_MERGES = {
    # IIC / STEGO / PriMaPs: {road, car}, {building, clutter}, {tree, low veg}
    'iic': (0, 1, 2, 2, 0, 1),
    # MSSSeg's text: ground {road, car, clutter}, buildings, vegetation
    'mssseg': (0, 1, 2, 2, 0, 0),
}
SPLIT_LISTS = {
    'train': 'labelled_train.txt',
    'val': 'labelled_test.txt',
    'unlabelled': 'unlabelled_train.txt',
}


def merge_potsdam_labels(label: np.ndarray, merge: str = 'iic') -> np.ndarray:
    """Merge IIC's 6 Potsdam classes into 3 (255 stays ignore).

    Args:
        label (np.ndarray): Ids 0-5 or 255.
        merge (str): ``'iic'`` (the protocol every paper evaluates with,
            default) or ``'mssseg'`` (clutter counted as ground, as the
            MSSSeg paper describes its merge).

    Returns:
        np.ndarray: uint8 labels 0-2 or 255.
    """
    if merge not in POTSDAM_MERGES:
        raise ValueError(f'merge must be one of {sorted(POTSDAM_MERGES)}')
    return lookup(label, list(POTSDAM_MERGES[merge]) + [255] * 250)


def _read_mat(path: str, key: str) -> np.ndarray:
    if not osp.isfile(path):
        raise ConversionError(f'file {path} does not exist')
    try:
        content = loadmat(path)
    except Exception as error:
        raise ConversionError(f'cannot read {path}: {error}') from error
    if key not in content:
        raise ConversionError(f'{path} has no "{key}" array')
    return np.asarray(content[key])


def _convert_one(
    name: str,
    source_root: str,
    data_root: str,
    split: str,
    merge: str,
    expected_size: int | None,
) -> None:
    image_target = osp.join(data_root, 'img_dir', split, f'{name}.png')
    label_target = osp.join(data_root, 'ann_dir', split, f'{name}.png')
    labelled = split != 'unlabelled'
    if reusable_image(image_target) and (
        not labelled or reusable_image(label_target)
    ):
        return
    image_path = osp.join(source_root, 'imgs', f'{name}.mat')
    image = _read_mat(image_path, 'img')
    if image.ndim != 3 or image.shape[2] < 3:
        raise ConversionError(
            f'{image_path}: expected an (H, W, 4) RGB-IR '
            f'patch, got shape {image.shape}'
        )
    if expected_size and image.shape[:2] != (expected_size, expected_size):
        raise ConversionError(
            f'{image_path} is {image.shape[0]}x'
            f'{image.shape[1]}, expected {expected_size}'
            f'x{expected_size}'
        )
    if labelled:
        label_path = osp.join(source_root, 'gt', f'{name}.mat')
        label = _read_mat(label_path, 'gt')
        if label.shape != image.shape[:2]:
            raise ConversionError(
                f'{label_path} is {label.shape} but '
                f'{image_path} is {image.shape[:2]}'
            )
        check_known_values(label, list(range(6)) + [255], label_path)
        write_label(
            merge_potsdam_labels(label.astype(np.int64), merge), label_target
        )
    save_image_atomic(
        np.ascontiguousarray(image[..., :3].astype(np.uint8)), image_target
    )


def convert_potsdam3(
    source_root: str,
    data_root: str | None = None,
    nproc: int = 1,
    merge: str = 'iic',
    splits=('train', 'val', 'unlabelled'),
    expected_size: int | None = 200,
) -> Dict[str, int]:
    """Convert IIC's Potsdam patches to the mmseg folder layout.

    Expects the IIC / STEGO ``potsdam`` folder: ``imgs/<id>.mat`` (key
    ``img``, 200x200x4 RGB-IR; RGB kept), ``gt/<id>.mat`` (key ``gt``, ids
    0-5) and the lists ``labelled_train.txt`` (4,545), ``labelled_test.txt``
    (855) and ``unlabelled_train.txt``. Writes ``img_dir/<split>/<id>.png``
    and ``ann_dir/<split>/<id>.png`` for ``train``, ``val`` (the labelled
    test list) and ``unlabelled`` (images only), and each list, in IIC's
    order, as ``splits/<split>.txt`` (upstream STEGO's KNN files follow
    ``labelled_train.txt``'s order). Existing outputs are skipped.

    Args:
        source_root (str): The IIC ``potsdam`` folder.
        data_root (str, optional): Output folder; defaults to
            ``source_root``.
        nproc (int): Worker processes.
        merge (str): 3-class merge, see :func:`merge_potsdam_labels`.
        splits (Sequence[str]): Splits to convert.
        expected_size (int, optional): Required patch size; None accepts
            any size.

    Returns:
        dict[str, int]: Images per split.
    """
    data_root = data_root or source_root
    counts = {}
    for split in splits:
        names = read_list(osp.join(source_root, SPLIT_LISTS[split]))
        run_jobs(
            partial(
                _convert_one,
                source_root=source_root,
                data_root=data_root,
                split=split,
                merge=merge,
                expected_size=expected_size,
            ),
            names,
            nproc,
            f'Potsdam-3 {split}',
        )
        # the list in IIC's order: upstream STEGO's KNN rows follow it
        write_list(names, osp.join(data_root, 'splits', f'{split}.txt'))
        counts[split] = len(names)
    return counts
