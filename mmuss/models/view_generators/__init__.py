# Copyright (c) mmuss contributors. All rights reserved.
from .base_view_generator import BaseViewGenerator
from .horizontal_flip_view import HorizontalFlipView
from .invariant_colour_view import InvariantColourView
from .pixel_affine_view import PixelAffineView
from .struct_aug import StructAug

__all__ = [
    'BaseViewGenerator',
    'HorizontalFlipView',
    'InvariantColourView',
    'PixelAffineView',
    'StructAug',
]
