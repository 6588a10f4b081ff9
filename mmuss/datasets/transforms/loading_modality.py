# Copyright (c) mmuss contributors. All rights reserved.
from typing import Optional

import numpy as np
from mmseg.registry import TRANSFORMS

from .loading_dense_map import LoadDenseMap

MODALITY_ENCODINGS = ('color', 'replicate', 'angle')


def encode_angle(angle: np.ndarray) -> np.ndarray:
    """An angle map (H, W) in radians as three channels (sin, cos, sin),
    each min-max scaled to [0, 255] per image (a constant channel gives 0):
    the AoLP encoding of the UniM2 code, which makes an angle a 3-channel
    image for an RGB backbone without a wrap-around at 0 / pi."""
    channels = [np.sin(angle), np.cos(angle), np.sin(angle)]
    scaled = []
    for channel in channels:
        low, high = float(channel.min()), float(channel.max())
        span = high - low
        scaled.append(
            (channel - low) * (255.0 / span)
            if span > 0
            else np.zeros_like(channel)
        )
    return np.stack(scaled, axis=2).astype(np.float32)


@TRANSFORMS.register_module()
class LoadModality(LoadDenseMap):
    """Load an aligned modality image and stack it onto the image as three
    channels: the multi-modal route (UniM2: RGB plus HHA depth, thermal,
    NIR or polarisation).

    Like :class:`LoadDenseMap` (whose file rules, checks and errors it
    shares: the file is ``<data_root>/<modality_dir>/<image path relative
    to data_root><suffix>``, same height and width as the image, finite
    values), so geometric transforms, sliding windows and flips treat the
    modality exactly as the image, and photometric transforms, which read
    the first three channels, leave it alone. The segmentor runs the frozen
    backbone once per modality that a head lists in
    ``required_modalities``; declare the modality in
    :class:`USSDataPreProcessor` with ``channels=3, modality=True`` and its
    own mean/std.

    Encodings (each gives 3 channels on the 0-255 scale of an image):

    - ``'color'``: a 3-channel image as stored (decoded in the image's
      channel order, BGR for PNG, as ``LoadImageFromFile``), e.g. HHA.
    - ``'replicate'``: a single-channel image repeated three times
      (thermal, NIR, DoLP).
    - ``'angle'``: a single-channel angle (AoLP), ``value * angle_scale``
      radians, as (sin, cos, sin) min-max scaled per image
      (:func:`encode_angle`).

    Args:
        name (str): The modality's name (``required_modalities``, the data
            preprocessor's ``aux_channels``), e.g. ``'hha'``.
        modality_dir (str): Folder of the modality images under
            ``data_root``.
        encoding (str): See above. Defaults to ``'color'``.
        suffix (str): ``'.png'`` or ``'.npy'``. Defaults to ``'.png'``.
        scale (float): Factor applied to stored values before encoding
            (e.g. 255 / 65535 for a 16-bit thermal PNG). Defaults to 1.
        angle_scale (float): Radians per stored unit for ``'angle'``
            (e.g. pi / 255 for AoLP in [0, pi) stored as 8 bits).
            Defaults to 1.
        data_root (str, optional): Defaults to the sample's ``data_root``.
        tool (str, optional): The tool that makes the files, named in
            errors.
    """

    def __init__(
        self,
        name: str,
        modality_dir: str,
        encoding: str = 'color',
        suffix: str = '.png',
        scale: float = 1.0,
        angle_scale: float = 1.0,
        data_root: Optional[str] = None,
        tool: Optional[str] = None,
    ) -> None:
        if encoding not in MODALITY_ENCODINGS:
            raise ValueError(
                f'encoding must be one of {MODALITY_ENCODINGS}, got '
                f'{encoding!r}'
            )
        super().__init__(
            name=name,
            map_dir=modality_dir,
            suffix=suffix,
            scale=scale,
            data_root=data_root,
            tool=tool,
        )
        self.encoding = encoding
        self.angle_scale = angle_scale

    def encode(self, values: np.ndarray) -> np.ndarray:
        """The modality's three channels (H, W, 3) from the stored values.

        Raises:
            ValueError: When the stored channel count does not fit the
                encoding.
        """
        channels = 1 if values.ndim == 2 else values.shape[2]
        if self.encoding == 'color':
            if channels != 3:
                raise ValueError(
                    f'encoding "color" needs a 3-channel image, the file has '
                    f'{channels}; use encoding="replicate" for a '
                    'single-channel modality'
                )
            return values
        if channels != 1:
            raise ValueError(
                f'encoding {self.encoding!r} needs a single-channel image, '
                f'the file has {channels}'
            )
        values = values.reshape(values.shape[:2])
        if self.encoding == 'replicate':
            return np.repeat(values[..., None], 3, axis=2)
        return encode_angle(values * self.angle_scale)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(name={self.name!r}, '
            f'modality_dir={self.map_dir!r}, encoding={self.encoding!r}, '
            f'suffix={self.suffix!r}, scale={self.scale})'
        )
