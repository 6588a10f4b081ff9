# Copyright (c) mmuss contributors. All rights reserved.
from .base_code_head import BaseCodeHead
from .identity_head import IdentityHead

__all__ = ['BaseCodeHead', 'IdentityHead']
