# Copyright (c) mmuss contributors. All rights reserved.
from .base_code_head import BaseCodeHead
from .head_inputs import HeadInputs
from .identity_head import IdentityHead
from .primaps_head import PrimapsHead
from .smooseg_head import SmooSegHead
from .stego_head import StegoHead

__all__ = [
    'BaseCodeHead',
    'HeadInputs',
    'IdentityHead',
    'PrimapsHead',
    'SmooSegHead',
    'StegoHead',
]
