# Copyright (c) mmuss contributors. All rights reserved.
from typing import List, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

FIVE_CROP_NAMES = (
    'top_left',
    'top_right',
    'bottom_left',
    'bottom_right',
    'center',
)


def five_crop_boxes(
    height: int, width: int, ratio: float = 0.5
) -> List[Tuple[int, int, int, int]]:
    """The four corner and the centre crop boxes of an image.

    The crops of STEGO's five-crop training sets (torchvision ``five_crop``
    with size ``(int(H * ratio), int(W * ratio))``), in torchvision's order:
    top-left, top-right, bottom-left, bottom-right, centre.

    Args:
        height (int): Image height H.
        width (int): Image width W.
        ratio (float): Crop side / image side. Defaults to 0.5.

    Returns:
        list[tuple]: ``(top, left, crop_height, crop_width)`` per crop.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f'ratio must be in (0, 1], got {ratio}')
    crop_h, crop_w = int(height * ratio), int(width * ratio)
    if crop_h < 1 or crop_w < 1:
        raise ValueError(
            f'a {height}x{width} image is too small for '
            f'five-crop ratio {ratio}'
        )
    centre = (
        int(round((height - crop_h) / 2.0)),
        int(round((width - crop_w) / 2.0)),
    )
    corners = [
        (0, 0),
        (0, width - crop_w),
        (height - crop_h, 0),
        (height - crop_h, width - crop_w),
        centre,
    ]
    return [(top, left, crop_h, crop_w) for top, left in corners]


def crop_array(array: np.ndarray, box: Tuple[int, int, int, int]):
    """Cut ``box`` = (top, left, height, width) out of an (H, W[, C])
    array."""
    top, left, height, width = box
    return array[top : top + height, left : left + width]


@TRANSFORMS.register_module()
class FiveCrop(BaseTransform):
    """Take one of the five crops (four corners and centre) of an image.

    The on-line counterpart of the offline five-crop training sets of STEGO
    and its successors (``tools/dataset_converters/five_crop.py``): each
    call picks one crop at ``ratio`` of the image size, at random or the
    fixed ``index``, and applies it to the image and every map in
    ``seg_fields``.

    Required keys: ``img``; optional ``seg_fields``.
    Modified keys: ``img``, ``img_shape``, maps in ``seg_fields``.
    Added keys: ``five_crop_index``.

    Args:
        ratio (float): Crop side / image side. Defaults to 0.5.
        index (int, optional): Always take crop ``index`` (0-4, order of
            :func:`five_crop_boxes`); None picks one uniformly.
    """

    def __init__(self, ratio: float = 0.5, index: int | None = None):
        if index is not None and index not in range(5):
            raise ValueError(f'index must be in 0-4 or None, got {index}')
        self.ratio = ratio
        self.index = index

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        boxes = five_crop_boxes(height, width, self.ratio)
        index = (
            self.index if self.index is not None else int(np.random.randint(5))
        )
        results['img'] = crop_array(results['img'], boxes[index])
        for key in results.get('seg_fields', []):
            results[key] = crop_array(results[key], boxes[index])
        results['img_shape'] = results['img'].shape[:2]
        results['five_crop_index'] = index
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ratio={self.ratio}, index={self.index})'
