# Copyright (c) mmuss contributors. All rights reserved.
from .dino_vision_transformer import (
    DINOVisionTransformer,
    interpolate_pos_embed_official,
)
from .moco_resnet import MoCoResNet

__all__ = [
    'DINOVisionTransformer',
    'MoCoResNet',
    'interpolate_pos_embed_official',
]
