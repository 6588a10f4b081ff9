# Copyright (c) mmuss contributors. All rights reserved.
from .base_code_head import BaseCodeHead
from .ds2dl_head import DS2DLHead, cluster_usage
from .head_inputs import HeadInputs
from .identity_head import IdentityHead
from .il2vseg_head import IL2VsegHead
from .mssseg_head import MSSSegHead, fuse_predictions
from .primaps_head import PrimapsHead
from .smooseg_head import SmooSegHead
from .stego_head import StegoHead
from .unim2_head import UniM2Head

__all__ = [
    'BaseCodeHead',
    'DS2DLHead',
    'cluster_usage',
    'HeadInputs',
    'IdentityHead',
    'IL2VsegHead',
    'MSSSegHead',
    'fuse_predictions',
    'PrimapsHead',
    'SmooSegHead',
    'StegoHead',
    'UniM2Head',
]
