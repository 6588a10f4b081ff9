# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from .base_view_generator import BaseViewGenerator


@MODELS.register_module()
class PixelAffineView(BaseViewGenerator):
    """A learnable per-channel gain and offset of the pixel values,
    ``gain * x + offset``: the smallest learned view, trained through the
    frozen backbone (``backbone_grad=True``) by the losses of a head that
    requires it.

    Args:
        channels (int): Image channels. Defaults to 3.
        learnable (bool): Train gain and offset. Defaults to True.
    """

    def __init__(self, channels: int = 3, learnable: bool = True) -> None:
        super().__init__()
        self.gain = nn.Parameter(
            torch.ones(1, channels, 1, 1), requires_grad=learnable
        )
        self.offset = nn.Parameter(
            torch.zeros(1, channels, 1, 1), requires_grad=learnable
        )

    def forward(self, images: Tensor) -> Tensor:
        return images * self.gain + self.offset
