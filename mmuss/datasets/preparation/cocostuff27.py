# Copyright (c) mmuss contributors. All rights reserved.
"""COCO-Stuff-164k -> COCO-Stuff-27 (the coarse classes of IIC and STEGO)."""

import os
import os.path as osp
from functools import partial
from typing import Dict, List

import numpy as np

from mmuss.utils.file_checks import reusable_image

from .common import (
    check_known_values,
    check_same_size,
    lookup,
    read_label,
    read_list,
    write_label,
    write_list,
)
from .parallel import ConversionError, run_jobs

# Coarse class (0-26) of each fine COCO-Stuff id 0-181 (things 0-90 -> 0-11,
# stuff 91-181 -> 12-26), IIC's fine_to_coarse table.
COCOSTUFF_FINE_TO_COARSE = (
    9,
    11,
    11,
    11,
    11,
    11,
    11,
    11,
    11,
    8,
    8,
    8,
    8,
    8,
    8,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    6,
    6,
    6,
    6,
    6,
    6,
    6,
    6,
    10,
    10,
    10,
    10,
    10,
    10,
    10,
    10,
    10,
    10,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    5,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    17,
    17,
    22,
    20,
    20,
    22,
    15,
    25,
    16,
    13,
    12,
    12,
    17,
    17,
    23,
    15,
    15,
    17,
    15,
    21,
    15,
    25,
    13,
    13,
    13,
    13,
    13,
    22,
    26,
    14,
    14,
    15,
    22,
    21,
    21,
    24,
    20,
    22,
    15,
    17,
    16,
    15,
    22,
    24,
    21,
    17,
    25,
    16,
    21,
    17,
    22,
    16,
    21,
    21,
    25,
    21,
    26,
    21,
    24,
    20,
    17,
    14,
    21,
    26,
    15,
    23,
    20,
    21,
    24,
    15,
    24,
    22,
    25,
    15,
    20,
    17,
    17,
    22,
    14,
    18,
    18,
    18,
    18,
    18,
    18,
    18,
    26,
    26,
    19,
    19,
    24,
)
_LOOKUP = list(COCOSTUFF_FINE_TO_COARSE) + [255] * (256 - 182)
STUFF_CLASSES = range(12, 27)
#: IIC's curated list ("Fine", version 7): the evaluation list of every
#: paper and PriMaPs' training list (49,629 train / 2,175 val ids).
CURATED_LIST = 'Coco164kFull_Stuff_Coarse_7.txt'
#: IIC's unversioned list: STEGO's training list (src/data.py, the
#: cocostuff27 branch uses subset=None for training; 97,702 train ids in
#: the IIC release, a superset of CURATED_LIST). Only available as a file.
STEGO_TRAIN_LIST = 'Coco164kFull_Stuff_Coarse.txt'
LABEL_SUFFIX = '_labelTrainIds27.png'
SPLITS = ('train2017', 'val2017')


def fine_to_coarse(label: np.ndarray) -> np.ndarray:
    """Map a stuffthingmaps label (fine ids 0-181, 255 unlabelled) to the
    27 coarse classes (255 stays ignore)."""
    return lookup(label, _LOOKUP)


def meets_curation_rule(
    coarse: np.ndarray, min_fraction: float = 0.75, min_size: int = 360
) -> bool:
    """IIC's rule for the curated lists ("_7" version): at least 75 % of
    the pixels are coarse stuff classes and both sides are >= 360 px."""
    height, width = coarse.shape
    if height < min_size or width < min_size:
        return False
    stuff = np.isin(coarse, STUFF_CLASSES).sum()
    return stuff >= min_fraction * height * width


def _convert_one(name: str, data_root: str, split: str) -> bool:
    """Convert one label map; return whether it meets the curation rule."""
    source = osp.join(data_root, 'annotations', split, f'{name}.png')
    target = osp.join(data_root, 'annotations', split, f'{name}{LABEL_SUFFIX}')
    image = osp.join(data_root, 'images', split, f'{name}.jpg')
    if reusable_image(target):
        return meets_curation_rule(read_label(target))
    fine = read_label(source)
    if fine.ndim != 2:
        raise ConversionError(f'label file {source} is not single-channel')
    check_known_values(fine, list(range(182)) + [255], source)
    check_same_size(image, source, fine)
    coarse = fine_to_coarse(fine)
    write_label(coarse, target)
    return meets_curation_rule(coarse)


def _label_names(data_root: str, split: str) -> List[str]:
    folder = osp.join(data_root, 'annotations', split)
    if not osp.isdir(folder):
        raise ConversionError(
            f'folder {folder} does not exist; unpack '
            'stuffthingmaps_trainval2017.zip there'
        )
    return sorted(
        name[:-4]
        for name in os.listdir(folder)
        if name.endswith('.png') and not name.endswith(LABEL_SUFFIX)
    )


def _copy_list(
    curated_dir: str,
    data_root: str,
    split: str,
    list_name: str,
    names: List[str],
) -> List[str]:
    """Copy one IIC list into ``curated/<split>/``, checking that every id
    has a label."""
    listed = read_list(osp.join(curated_dir, split, list_name))
    missing = sorted(set(listed) - set(names))
    if missing:
        raise ConversionError(
            f'{len(missing)} ids of {split}/{list_name} have no label in '
            f'annotations/{split}, e.g. {missing[:3]}'
        )
    write_list(listed, osp.join(data_root, 'curated', split, list_name))
    return listed


def convert_cocostuff27(
    data_root: str,
    nproc: int = 1,
    splits=SPLITS,
    curated_dir: str | None = None,
) -> Dict[str, Dict[str, int]]:
    """Write the 27-class labels and the curated image lists.

    Expects the official downloads unpacked in ``data_root``::

        images/{train2017,val2017}/<id>.jpg       (train2017.zip, val2017.zip)
        annotations/{train2017,val2017}/<id>.png  (stuffthingmaps_trainval2017)

    and writes ``annotations/<split>/<id>_labelTrainIds27.png`` and the
    lists under ``curated/<split>/``:

    - ``Coco164kFull_Stuff_Coarse_7.txt`` (:data:`CURATED_LIST`, evaluation
      and PriMaPs training): copied from ``curated_dir`` (the IIC / STEGO
      files) when given, kept when present, otherwise derived with IIC's
      rule (:func:`meets_curation_rule`);
    - ``Coco164kFull_Stuff_Coarse.txt`` (:data:`STEGO_TRAIN_LIST`, STEGO's
      training list): copied from ``curated_dir`` when it holds it. IIC's
      rule for it is not published, so it is never derived.

    Existing outputs are skipped.

    Args:
        data_root (str): Dataset folder.
        nproc (int): Worker processes.
        splits (Sequence[str]): Splits to convert.
        curated_dir (str, optional): Folder holding ``<split>/<list>``.

    Returns:
        dict[str, dict[str, int]]: Per split, the number of ids of each
        list written or found.
    """
    counts = {}
    for split in splits:
        names = _label_names(data_root, split)
        curated = run_jobs(
            partial(_convert_one, data_root=data_root, split=split),
            names,
            nproc,
            f'COCO-Stuff-27 {split}',
        )
        counts[split] = {}
        for list_name in (CURATED_LIST, STEGO_TRAIN_LIST):
            list_path = osp.join(data_root, 'curated', split, list_name)
            # the version-7 list must be in a given curated_dir; STEGO's
            # training list is optional
            given = curated_dir is not None and (
                list_name == CURATED_LIST
                or osp.isfile(osp.join(curated_dir, split, list_name))
            )
            if given:
                listed = _copy_list(
                    curated_dir, data_root, split, list_name, names
                )
            elif osp.isfile(list_path):
                listed = read_list(list_path)
            elif list_name == CURATED_LIST:
                listed = [n for n, keep in zip(names, curated) if keep]
                write_list(listed, list_path)
            else:
                continue
            counts[split][list_name] = len(listed)
    return counts
