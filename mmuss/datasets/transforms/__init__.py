# Copyright (c) mmuss contributors. All rights reserved.
from .five_crop import FiveCrop, crop_array, five_crop_boxes
from .resize_center_crop import ResizeCenterCrop, resize_short_side_center_crop

__all__ = [
    'FiveCrop',
    'ResizeCenterCrop',
    'crop_array',
    'five_crop_boxes',
    'resize_short_side_center_crop',
]
