# Copyright (c) mmuss contributors. All rights reserved.
from .checkpoint_check_hook import (
    CheckpointCheckHook,
    CheckpointMismatchError,
    find_resumable_checkpoint,
    is_readable_checkpoint,
)
from .class_count_check_hook import ClassCountCheckHook
from .non_finite_check_hook import NonFiniteCheckHook, NonFiniteError
from .primaps_hooks import (
    PrimapsEMAHook,
    PrimapsInitHook,
    principal_components,
)
from .random_state_hook import RandomStateHook

__all__ = [
    'CheckpointCheckHook',
    'CheckpointMismatchError',
    'ClassCountCheckHook',
    'NonFiniteCheckHook',
    'NonFiniteError',
    'PrimapsEMAHook',
    'PrimapsInitHook',
    'RandomStateHook',
    'find_resumable_checkpoint',
    'is_readable_checkpoint',
    'principal_components',
]
