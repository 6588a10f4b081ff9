# Copyright (c) mmuss contributors. All rights reserved.
"""PASCAL VOC 2012 (and the SBD "aug" labels) -> mmseg folder layout."""

import os.path as osp
from functools import partial
from typing import Dict

import numpy as np
from scipy.io import loadmat

from mmuss.utils.file_checks import reusable_image

from .common import (
    check_known_values,
    check_same_size,
    link_or_copy,
    read_label,
    read_list,
    write_label,
    write_list,
)
from .parallel import ConversionError, run_jobs

VOC_LABEL_IDS = list(range(21)) + [255]


def _sbd_label(path: str) -> np.ndarray:
    """Segmentation of an SBD ``cls/<id>.mat`` file (struct ``GTcls``)."""
    try:
        content = loadmat(path, squeeze_me=True, struct_as_record=False)
        return np.asarray(content['GTcls'].Segmentation, dtype=np.uint8)
    except Exception as error:
        raise ConversionError(
            f'cannot read SBD label {path}: {error}'
        ) from error


def _convert_one(
    item, voc_root: str, sbd_root: str | None, data_root: str
) -> None:
    split, name = item
    image = osp.join(voc_root, 'JPEGImages', f'{name}.jpg')
    image_target = osp.join(data_root, 'img_dir', split, f'{name}.jpg')
    label_target = osp.join(data_root, 'ann_dir', split, f'{name}.png')
    if reusable_image(label_target) and reusable_image(image_target):
        return
    voc_label = osp.join(voc_root, 'SegmentationClass', f'{name}.png')
    if osp.isfile(voc_label):
        source, label = voc_label, read_label(voc_label)
    elif sbd_root is not None:
        source = osp.join(sbd_root, 'cls', f'{name}.mat')
        if not osp.isfile(source):
            raise ConversionError(
                f'image {image} has no label in SegmentationClass nor {source}'
            )
        label = _sbd_label(source)
    else:
        raise ConversionError(f'image {image} has no label file {voc_label}')
    if label.ndim != 2:
        raise ConversionError(
            f'label file {source} is not a class-index '
            'map (palette PNG expected)'
        )
    check_known_values(label, VOC_LABEL_IDS, source)
    check_same_size(image, source, label)
    write_label(label, label_target)
    link_or_copy(image, image_target)


def convert_pascal_voc(
    voc_root: str, data_root: str, nproc: int = 1, sbd_root: str | None = None
) -> Dict[str, int]:
    """Convert VOC 2012 segmentation to ``img_dir``/``ann_dir`` folders.

    Expects ``VOCdevkit/VOC2012`` as ``voc_root`` (``JPEGImages``,
    ``SegmentationClass`` palette PNGs, ``ImageSets/Segmentation/
    {train,val}.txt``). Writes ``img_dir/<split>/<id>.jpg`` (hard links or
    copies) and ``ann_dir/<split>/<id>.png`` (class ids 0-20, 255 boundary /
    ignore) for ``train`` (1,464) and ``val`` (1,449). With ``sbd_root``
    (the SBD ``dataset`` folder with ``cls/*.mat`` and ``train.txt`` /
    ``val.txt``) it also writes ``trainaug``: VOC train plus SBD train and
    val, minus VOC val (10,582 images).

    Args:
        voc_root (str): ``VOCdevkit/VOC2012``.
        data_root (str): Output folder.
        nproc (int): Worker processes.
        sbd_root (str, optional): SBD ``dataset`` folder.

    Returns:
        dict[str, int]: Images per split.
    """
    lists = osp.join(voc_root, 'ImageSets', 'Segmentation')
    splits = {
        s: read_list(osp.join(lists, f'{s}.txt')) for s in ('train', 'val')
    }
    if sbd_root is not None:
        sbd = set(read_list(osp.join(sbd_root, 'train.txt'))) | set(
            read_list(osp.join(sbd_root, 'val.txt'))
        )
        splits['trainaug'] = sorted(
            (sbd | set(splits['train'])) - set(splits['val'])
        )
    items = [
        (split, name) for split, names in splits.items() for name in names
    ]
    run_jobs(
        partial(
            _convert_one,
            voc_root=voc_root,
            sbd_root=sbd_root,
            data_root=data_root,
        ),
        items,
        nproc,
        'PASCAL VOC 2012',
    )
    for split, names in splits.items():
        write_list(names, osp.join(data_root, 'splits', f'{split}.txt'))
    return {split: len(names) for split, names in splits.items()}
