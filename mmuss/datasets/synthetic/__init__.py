# Copyright (c) mmuss contributors. All rights reserved.
from .generator import (
    STUFF_CLASSES,
    SYNTHETIC_CLASSES,
    SYNTHETIC_PALETTE,
    THING_CLASSES,
    generate_scene,
    generate_synthetic_scenes,
    held_out_seed,
)

__all__ = [
    'STUFF_CLASSES',
    'SYNTHETIC_CLASSES',
    'SYNTHETIC_PALETTE',
    'THING_CLASSES',
    'generate_scene',
    'generate_synthetic_scenes',
    'held_out_seed',
]
