# Copyright (c) mmuss contributors. All rights reserved.
from .depth import region_distances, synthetic_depth, write_synthetic_depth
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
    'region_distances',
    'synthetic_depth',
    'write_synthetic_depth',
]
