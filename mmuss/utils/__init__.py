# Copyright (c) mmuss contributors. All rights reserved.
from .checkpoint_safety import (
    load_checkpoint_file,
    load_checkpoint_url,
    register_safe_checkpoint_loading,
    safe_checkpoint_globals,
)
from .label_checks import check_label_values, invalid_label_values

__all__ = [
    'load_checkpoint_file',
    'load_checkpoint_url',
    'register_safe_checkpoint_loading',
    'safe_checkpoint_globals',
    'check_label_values',
    'invalid_label_values',
]
