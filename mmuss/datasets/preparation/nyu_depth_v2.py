# Copyright (c) mmuss contributors. All rights reserved.
"""NYU-Depth-v2 (RGB + HHA, 40 classes) -> 13 classes, mmuss layout."""

import os.path as osp
from functools import partial
from typing import Dict, List, Tuple

import numpy as np

from .common import check_known_values, read_list, write_label
from .multimodal import (
    all_reusable,
    read_image_file,
    sample_targets,
    single_channel_label,
    write_image,
    write_splits,
)
from .parallel import ConversionError, run_jobs

# NYU-40 class (1-40, Gupta et al.) -> 13 classes (0 bed, 1 books, 2 ceiling,
# 3 chair, 4 floor, 5 furniture, 6 objects, 7 picture, 8 sofa, 9 table,
# 10 tv, 11 wall, 12 window): entry k - 1 is the class of NYU-40 class k.
NYU40_TO_13 = (
    11, 4, 5, 0, 3, 8, 9, 11, 12, 5,
    7, 5, 12, 9, 5, 12, 5, 6, 6, 4,
    6, 2, 1, 5, 10, 6, 6, 6, 6, 6,
    6, 5, 6, 6, 6, 6, 6, 6, 5, 6,
)  # fmt: skip
HHA = 'hha'
RGB_SUFFIXES = ('.jpg', '.png')


def nyu40_to_13(label: np.ndarray) -> np.ndarray:
    """Map NYU-40 labels (0 void, 1-40) to the 13 classes; void -> 255.

    The mapping is applied once, here: UniM2's cropped-set loader
    (``CroppedDataset._restore_label``) applies it a second time to labels
    already in 13-class space (e.g. bed 0 -> wall 11), which mmuss does not
    reproduce.
    """
    table = np.full(256, 255, np.uint8)
    table[1:41] = NYU40_TO_13
    return table[label]


def sample_name(entry: str) -> str:
    """The file stem of a split-list line: its first field, zero-padded to
    4 digits (UniM2's ``str(name).zfill(4)``)."""
    return entry.split()[0].zfill(4)


def orient(
    array: np.ndarray, size: Tuple[int, int], path: str, label_path: str
) -> Tuple[np.ndarray, bool]:
    """``array`` in the label's orientation: kept when it has the label's
    size (H, W), transposed when it has (W, H); returns it and whether it
    was transposed.

    UniM2 transposes every NYU RGB file (``Image.TRANSPOSE``) and no HHA or
    label file, i.e. its release stores the RGB images W x H; here each
    file is compared with its label instead, so either storage converts
    correctly.
    """
    shape = tuple(array.shape[:2])
    if shape == tuple(size):
        return array, False
    if shape == tuple(size[::-1]):
        return np.ascontiguousarray(np.swapaxes(array, 0, 1)), True
    raise ConversionError(
        f'{path} is {shape[0]}x{shape[1]} (HxW) but its label {label_path} '
        f'is {size[0]}x{size[1]} (nor transposed)'
    )


def three_channels(array: np.ndarray, path: str) -> np.ndarray:
    """An (H, W, 3) image: the first three channels, or a grey image
    repeated (UniM2's ``_read_image_as_rgb`` for HHA)."""
    if array.ndim == 2:
        return np.repeat(array[..., None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] >= 3:
        return array[..., :3]
    raise ConversionError(
        f'image file {path} must have 1 or >= 3 channels, got {array.shape}'
    )


def rgb_path(source_root: str, name: str) -> str:
    """``RGB/<name>.jpg`` or ``.png``, whichever exists (jpg first)."""
    for suffix in RGB_SUFFIXES:
        path = osp.join(source_root, 'RGB', f'{name}{suffix}')
        if osp.isfile(path):
            return path
    raise ConversionError(
        f'no RGB image {name}{{.jpg,.png}} in {osp.join(source_root, "RGB")}'
    )


def _convert_one(name: str, source_root: str, data_root: str) -> List[bool]:
    targets = sample_targets(data_root, name, [HHA])
    if all_reusable(targets):
        return [False, False]
    label_path = osp.join(source_root, 'Labels', f'{name}.png')
    label = single_channel_label(
        read_image_file(label_path, 'label'), label_path
    )
    check_known_values(label, range(41), label_path)
    flips = []
    for key, path in (
        ('img', rgb_path(source_root, name)),
        (HHA, osp.join(source_root, 'HHA', f'{name}.png')),
    ):
        array = three_channels(read_image_file(path, key), path)
        array, flipped = orient(array, label.shape, path, label_path)
        write_image(array.astype(np.uint8), targets[key])
        flips.append(flipped)
    write_label(nyu40_to_13(label), targets['label'])
    return flips


def evaluation_list(source_root: str) -> str:
    """UniM2's evaluation list: ``val.txt`` if present, else ``test.txt``."""
    for name in ('val.txt', 'test.txt'):
        path = osp.join(source_root, name)
        if osp.isfile(path):
            return path
    raise ConversionError(f'neither val.txt nor test.txt in {source_root}')


def convert_nyu_depth_v2(
    source_root: str, data_root: str, nproc: int = 1
) -> Dict[str, int]:
    """Convert UniM2's NYU-Depth-v2 release to the mmuss layout.

    Expects the folder UniM2 reads (``NYU_Depth/nyu``): ``RGB/<id>.jpg``
    (or ``.png``), ``HHA/<id>.png`` (3-channel HHA), ``Labels/<id>.png``
    (NYU-40: 0 void, 1-40) and the lists ``train.txt`` and ``test.txt``
    (or ``val.txt``), one id per line (first field, zero-padded to 4
    digits). Writes the RGB image, HHA and 13-class label
    (:func:`nyu40_to_13`) of every listed id as PNGs, each image and HHA
    map turned to its label's orientation (:func:`orient`), and
    ``splits/{train,test}.txt``. Finished image sets are skipped, so an
    interrupted run resumes.

    Args:
        source_root (str): The ``nyu`` folder.
        data_root (str): Output folder.
        nproc (int): Worker processes.

    Returns:
        dict[str, int]: Images per split, and how many RGB and HHA files
        were transposed (``rgb_transposed``, ``hha_transposed``; images
        skipped on resumption count as not transposed).
    """
    splits = {
        'train': read_list(osp.join(source_root, 'train.txt')),
        'test': read_list(evaluation_list(source_root)),
    }
    splits = {k: [sample_name(e) for e in v] for k, v in splits.items()}
    names = sorted(set(splits['train']) | set(splits['test']))
    flips = run_jobs(
        partial(_convert_one, source_root=source_root, data_root=data_root),
        names,
        nproc,
        'NYU-Depth-v2',
    )
    write_splits(data_root, splits)
    counts = {split: len(listed) for split, listed in splits.items()}
    counts['rgb_transposed'] = sum(f[0] for f in flips)
    counts['hha_transposed'] = sum(f[1] for f in flips)
    return counts
