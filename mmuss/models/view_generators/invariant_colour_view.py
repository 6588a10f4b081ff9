# Copyright (c) mmuss contributors. All rights reserved.
from typing import Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor

from .base_view_generator import BaseViewGenerator

# ITU-R BT.601 luma weights (R, G, B)
LUMA = (0.299, 0.587, 0.114)


def random_factors(
    batch_size: int, spread: float, like: Tensor, channels: int = 1
) -> Tensor:
    """Per-image factors uniform in [1 - spread, 1 + spread],
    (B, channels, 1, 1)."""
    noise = torch.rand(batch_size, channels, 1, 1, device=like.device)
    return (1.0 + spread * (2.0 * noise - 1.0)).to(like.dtype)


def luminance(images: Tensor) -> Tensor:
    """Luma (B, 1, H, W) of RGB images (B, 3, H, W)."""
    weights = images.new_tensor(LUMA).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


@MODELS.register_module()
class InvariantColourView(BaseViewGenerator):
    """IL2Vseg's colour- and luminosity-invariant view ``Ĩ``.

    IL2Vseg (Qing et al.), "Problem Setting": ``Ĩ_b`` is
    obtained "according to the principles of color invariance and luminosity
    invariance"; STEGO's correspondence loss ties ``I`` and ``Ĩ`` (Eq. 15's
    ``L_corr``). The transform is not given; our reading is a random,
    pixel-aligned photometric change the segmentation should not depend on,
    drawn per image:

    * luminosity: a brightness gain and a contrast change about the image's
      mean luma;
    * colour: a per-channel gain (illuminant colour) and a saturation change
      about the pixel's luma.

    Pixel values (RGB, 0-255 by default) in and out, clipped to the range;
    no geometry change, so :meth:`apply_geometry` and :meth:`invert` are
    identities. Not cached by the segmentor (generated views never are).

    Args:
        brightness (float): Spread of the brightness gain. Defaults to 0.4.
        contrast (float): Spread of the contrast factor. Defaults to 0.4.
        channel_gain (float): Spread of each channel's gain.
            Defaults to 0.1.
        saturation (float): Spread of the saturation factor.
            Defaults to 0.4.
        value_range (tuple[float, float]): Clip range. Defaults to
            (0, 255).
    """

    def __init__(
        self,
        brightness: float = 0.4,
        contrast: float = 0.4,
        channel_gain: float = 0.1,
        saturation: float = 0.4,
        value_range: Tuple[float, float] = (0.0, 255.0),
    ) -> None:
        super().__init__()
        for name, spread in dict(
            brightness=brightness,
            contrast=contrast,
            channel_gain=channel_gain,
            saturation=saturation,
        ).items():
            if not 0.0 <= spread < 1.0:
                raise ValueError(f'{name} must lie in [0, 1), got {spread}')
        self.brightness = brightness
        self.contrast = contrast
        self.channel_gain = channel_gain
        self.saturation = saturation
        self.value_range = tuple(value_range)

    def forward(self, images: Tensor) -> Tensor:
        batch = images.shape[0]
        view = images * random_factors(batch, self.brightness, images)
        mean = luminance(view).mean(dim=(2, 3), keepdim=True)
        view = mean + (view - mean) * random_factors(
            batch, self.contrast, images
        )
        view = view * random_factors(batch, self.channel_gain, images, 3)
        luma = luminance(view)
        view = luma + (view - luma) * random_factors(
            batch, self.saturation, images
        )
        return view.clamp(*self.value_range)
