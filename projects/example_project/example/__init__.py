# Copyright (c) mmuss contributors. All rights reserved.
from .random_projection_head import RandomProjectionHead

__all__ = ['RandomProjectionHead']
