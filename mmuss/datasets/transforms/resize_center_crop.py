# Copyright (c) mmuss contributors. All rights reserved.

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def resize_short_side_center_crop(
    array: np.ndarray, size: int, crop_size: int, interpolation: str
) -> np.ndarray:
    """Resize so the shorter side is ``size``, then take the central
    ``crop_size`` x ``crop_size`` window.

    Args:
        array (np.ndarray): (H, W) or (H, W, C) image or label map.
        size (int): Target length of the shorter side.
        crop_size (int): Side of the square centre crop (<= ``size``).
        interpolation (str): mmcv interpolation name.

    Returns:
        np.ndarray: (crop_size, crop_size[, C]).
    """
    height, width = array.shape[:2]
    scale = size / min(height, width)
    new_size = (
        max(size, round(width * scale)),
        max(size, round(height * scale)),
    )
    resized = mmcv.imresize(array, new_size, interpolation=interpolation)
    top = (resized.shape[0] - crop_size) // 2
    left = (resized.shape[1] - crop_size) // 2
    return resized[top : top + crop_size, left : left + crop_size]


@TRANSFORMS.register_module()
class ResizeCenterCrop(BaseTransform):
    """Resize the shorter side to ``size`` and centre-crop a square.

    The image preparation of the unsupervised segmentation protocol (STEGO,
    PriMaPs and the papers after them): training crops are resized to 224
    then centre-cropped, evaluation images and labels to 320 (322 for
    patch-14 backbones). Label maps and every other map in ``seg_fields``
    are resized with nearest-neighbour interpolation.

    The protocol scores the centre crop only, so with ``as_original=True``
    (for evaluation pipelines) ``ori_shape`` is set to the crop size: the
    prediction is then produced at, and compared with, the cropped label.

    Required keys: ``img``; optional ``seg_fields``.
    Modified keys: ``img``, ``img_shape``, fields in ``seg_fields``,
    ``ori_shape`` (with ``as_original``). Added keys: ``crop_size``.

    Args:
        size (int): Length of the shorter side after resizing.
        crop_size (int, optional): Square crop side. Defaults to ``size``.
        interpolation (str): Image interpolation. Defaults to
            ``'bilinear'`` (STEGO's code resizes images with ``'nearest'``).
        as_original (bool): Treat the crop as the original image.
            Defaults to False.
    """

    def __init__(
        self,
        size: int,
        crop_size: int | None = None,
        interpolation: str = 'bilinear',
        as_original: bool = False,
    ) -> None:
        crop_size = size if crop_size is None else crop_size
        if crop_size > size:
            raise ValueError(f'crop_size {crop_size} exceeds size {size}')
        self.size = size
        self.crop_size = crop_size
        self.interpolation = interpolation
        self.as_original = as_original

    def transform(self, results: dict) -> dict:
        results['img'] = resize_short_side_center_crop(
            results['img'], self.size, self.crop_size, self.interpolation
        )
        for key in results.get('seg_fields', []):
            results[key] = resize_short_side_center_crop(
                results[key], self.size, self.crop_size, 'nearest'
            )
        results['img_shape'] = results['img'].shape[:2]
        results['crop_size'] = (self.crop_size, self.crop_size)
        if self.as_original:
            results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(size={self.size}, '
            f'crop_size={self.crop_size}, '
            f'interpolation={self.interpolation!r}, '
            f'as_original={self.as_original})'
        )
