# Copyright (c) mmuss contributors. All rights reserved.
from .five_crop import FiveCrop, crop_array, five_crop_boxes
from .formatting import PackUSSInputs
from .loading_dense_map import LoadDenseMap, dense_map_path, read_dense_map
from .loading_modality import LoadModality, encode_angle
from .loading_pseudo_mask import LoadPseudoMask, pseudo_mask_path
from .photometric_view import (
    PhotometricView,
    color_jitter,
    gaussian_blur,
    grayscale,
)
from .resize_center_crop import ResizeCenterCrop, resize_short_side_center_crop

__all__ = [
    'FiveCrop',
    'LoadDenseMap',
    'LoadModality',
    'LoadPseudoMask',
    'PackUSSInputs',
    'PhotometricView',
    'ResizeCenterCrop',
    'color_jitter',
    'crop_array',
    'dense_map_path',
    'encode_angle',
    'five_crop_boxes',
    'gaussian_blur',
    'grayscale',
    'pseudo_mask_path',
    'read_dense_map',
    'resize_short_side_center_crop',
]
