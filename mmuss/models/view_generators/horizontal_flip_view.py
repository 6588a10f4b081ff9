# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import MODELS
from torch import Tensor

from .base_view_generator import BaseViewGenerator


@MODELS.register_module()
class HorizontalFlipView(BaseViewGenerator):
    """The horizontally flipped image: a deterministic, invertible view
    (test-time augmentation)."""

    def forward(self, images: Tensor) -> Tensor:
        return images.flip(-1)

    def apply_geometry(self, maps: Tensor) -> Tensor:
        return maps.flip(-1)

    def invert(self, outputs: Tensor) -> Tensor:
        return outputs.flip(-1)
