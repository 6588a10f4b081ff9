# Copyright (c) mmuss contributors. All rights reserved.
from .uss_data_preprocessor import (
    IMAGE_INPUT,
    PIXELS_INPUT,
    USSDataPreProcessor,
)

__all__ = ['IMAGE_INPUT', 'PIXELS_INPUT', 'USSDataPreProcessor']
