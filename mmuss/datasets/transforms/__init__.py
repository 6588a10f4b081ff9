# Copyright (c) mmuss contributors. All rights reserved.
from .resize_center_crop import ResizeCenterCrop, resize_short_side_center_crop

__all__ = ['ResizeCenterCrop', 'resize_short_side_center_crop']
