# Copyright (c) mmuss contributors. All rights reserved.
from .generator import (
    SYNTHETIC_CLASSES,
    SYNTHETIC_PALETTE,
    generate_scene,
    generate_synthetic_scenes,
)

__all__ = [
    'SYNTHETIC_CLASSES',
    'SYNTHETIC_PALETTE',
    'generate_scene',
    'generate_synthetic_scenes',
]
