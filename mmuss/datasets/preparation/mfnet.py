# Copyright (c) mmuss contributors. All rights reserved.
"""MFNet (RGB-thermal, 4-channel PNGs) -> 8 classes, mmuss layout."""

import os.path as osp
from functools import partial
from typing import Dict, Sequence, Tuple

import numpy as np

from .common import check_known_values, lookup, read_list, write_label
from .multimodal import (
    all_reusable,
    check_size,
    read_image_file,
    sample_targets,
    single_channel_label,
    write_image,
    write_splits,
)
from .parallel import ConversionError, run_jobs

THERMAL = 'thermal'
FLIP_SUFFIX = '_flip'
MFNET_SPLITS = ('train', 'val', 'test')
# label ids: 0 unlabeled, 1 car ... 8 bump
_LOOKUP = [255] + list(range(8)) + [255] * 247


def mfnet_label_to_classes(label: np.ndarray) -> np.ndarray:
    """Map MFNet label ids to 8 classes: 0 "unlabeled" -> 255, k -> k - 1
    (car, person, bike, curve, car stop, guardrail, colour cone, bump)."""
    return lookup(label, _LOOKUP)


def split_rgb_thermal(
    rgbt: np.ndarray, path: str
) -> Tuple[np.ndarray, np.ndarray]:
    """The RGB image (H, W, 3) and thermal image (H, W) of an MFNet PNG:
    channels 0-2 and channel 3 of its 4 (RGBA order, as UniM2 reads
    them)."""
    if rgbt.ndim != 3 or rgbt.shape[2] != 4 or rgbt.dtype != np.uint8:
        raise ConversionError(
            f'MFNet image {path} must be an 8-bit 4-channel (RGB + thermal) '
            f'PNG, got {rgbt.dtype} {rgbt.shape}'
        )
    return rgbt[..., :3], rgbt[..., 3]


def base_name(entry: str, source_root: str) -> Tuple[str, bool]:
    """The image a split entry names and whether it is mirrored: an entry
    ``<id>_flip`` without a file of its own is ``<id>`` flipped left-right
    (as UniM2 reads such entries)."""
    if entry.endswith(FLIP_SUFFIX) and not osp.isfile(
        osp.join(source_root, 'images', f'{entry}.png')
    ):
        return entry[: -len(FLIP_SUFFIX)], True
    return entry, False


def _convert_one(entry: str, source_root: str, data_root: str) -> None:
    targets = sample_targets(data_root, entry, [THERMAL])
    if all_reusable(targets):
        return
    name, flip = base_name(entry, source_root)
    image_path = osp.join(source_root, 'images', f'{name}.png')
    label_path = osp.join(source_root, 'labels', f'{name}.png')
    label = single_channel_label(
        read_image_file(label_path, 'label'), label_path
    )
    check_known_values(label, range(9), label_path)
    rgbt = read_image_file(image_path, 'image')
    check_size(rgbt, label.shape, image_path, label_path)
    rgb, thermal = split_rgb_thermal(rgbt, image_path)
    if flip:
        rgb, thermal, label = rgb[:, ::-1], thermal[:, ::-1], label[:, ::-1]
    write_image(thermal, targets[THERMAL])
    write_label(
        mfnet_label_to_classes(np.ascontiguousarray(label)), targets['label']
    )
    write_image(rgb, targets['img'])


def convert_mfnet(
    source_root: str,
    data_root: str,
    nproc: int = 1,
    splits: Sequence[str] = MFNET_SPLITS,
) -> Dict[str, int]:
    """Convert the official MFNet dataset to the mmuss layout.

    Expects the official folder (``ir_seg_dataset``, UniM2's
    ``MFNet/mfnet``): ``images/<id>.png`` (8-bit RGB + thermal, 4
    channels), ``labels/<id>.png`` (0 unlabeled, 1-8) and one list per
    split (``<split>.txt``). Writes the RGB image and the thermal image
    (:func:`split_rgb_thermal`) and the 8-class label
    (:func:`mfnet_label_to_classes`) of every listed id, and
    ``splits/<split>.txt``; entries ``<id>_flip`` become mirrored copies
    (:func:`base_name`). Finished image sets are skipped, so an interrupted
    run resumes.

    Args:
        source_root (str): The official folder.
        data_root (str): Output folder.
        nproc (int): Worker processes.
        splits (Sequence[str]): The lists to convert. Defaults to train,
            val and test (UniM2 trains on train and evaluates on test).

    Returns:
        dict[str, int]: Images per split.
    """
    listed = {s: read_list(osp.join(source_root, f'{s}.txt')) for s in splits}
    names = sorted({name for names in listed.values() for name in names})
    run_jobs(
        partial(_convert_one, source_root=source_root, data_root=data_root),
        names,
        nproc,
        'MFNet',
    )
    write_splits(data_root, listed)
    return {split: len(names) for split, names in listed.items()}
