# Copyright (c) mmuss contributors. All rights reserved.
from .dino_vision_transformer import (
    DINOVisionTransformer,
    interpolate_pos_embed_official,
)

__all__ = ['DINOVisionTransformer', 'interpolate_pos_embed_official']
