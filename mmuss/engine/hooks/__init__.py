# Copyright (c) mmuss contributors. All rights reserved.
from .class_count_check_hook import ClassCountCheckHook
from .primaps_hooks import (
    PrimapsEMAHook,
    PrimapsInitHook,
    principal_components,
)

__all__ = [
    'ClassCountCheckHook',
    'PrimapsEMAHook',
    'PrimapsInitHook',
    'principal_components',
]
