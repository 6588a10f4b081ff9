# Copyright (c) mmuss contributors. All rights reserved.
from .dino_vision_transformer import (
    DINOVisionTransformer,
    interpolate_pos_embed_official,
)
from .dinov3_vision_transformer import (
    DINOV3_ARCHS,
    DINOv3VisionTransformer,
    ffn_hidden_features,
)
from .moco_resnet import MoCoResNet

__all__ = [
    'DINOV3_ARCHS',
    'DINOVisionTransformer',
    'DINOv3VisionTransformer',
    'ffn_hidden_features',
    'MoCoResNet',
    'interpolate_pos_embed_official',
]
