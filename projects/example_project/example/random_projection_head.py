# Copyright (c) mmuss contributors. All rights reserved.
from typing import List

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from mmuss.models.decode_heads import BaseCodeHead


@MODELS.register_module()
class RandomProjectionHead(BaseCodeHead):
    """Template head: a fixed random orthogonal projection of the features.

    A minimal outside method for mmuss. It maps the frozen features to
    ``channels``-dimensional codes with a random orthogonal matrix
    (Johnson-Lindenstrauss style), so the cluster probe runs in a lower
    dimension. A real method adds trainable layers in ``__init__`` and its
    losses in :meth:`loss_by_codes`.

    Args:
        in_channels (int): Feature channels.
        channels (int): Code dimension (<= ``in_channels``).
        seed (int): Seed of the projection. Defaults to 0.
    """

    def __init__(
        self, in_channels: int, channels: int, seed: int = 0, **kwargs
    ) -> None:
        super().__init__(in_channels=in_channels, channels=channels, **kwargs)
        if channels > in_channels:
            raise ValueError('channels must not exceed in_channels')
        generator = torch.Generator().manual_seed(seed)
        matrix, _ = torch.linalg.qr(
            torch.randn(in_channels, channels, generator=generator)
        )
        self.register_buffer('projection', matrix.T.contiguous())

    def forward(self, inputs: List[Tensor]) -> Tensor:
        features = self._transform_inputs(inputs)
        return F.conv2d(features, self.projection[:, :, None, None])
