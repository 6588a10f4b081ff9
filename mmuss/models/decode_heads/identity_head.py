# Copyright (c) mmuss contributors. All rights reserved.
from typing import List

from mmseg.registry import MODELS
from torch import Tensor

from .base_code_head import BaseCodeHead


@MODELS.register_module()
class IdentityHead(BaseCodeHead):
    """The "DINO baseline" head: the codes are the frozen features.

    Every unsupervised segmentation paper reports, as its baseline, the
    cluster probe applied directly to the frozen self-supervised features
    (STEGO's ``projection_type=None``; PriMaPs' "Baseline" rows). This head
    has no parameters and no loss; it selects the feature map (``in_index``)
    and passes it on.

    Args:
        in_channels (int): Channels of the selected feature map.
        **kwargs: :class:`BaseCodeHead` arguments; ``channels`` defaults to
            (and must equal) ``in_channels``.
    """

    def __init__(self, in_channels: int, **kwargs) -> None:
        channels = kwargs.pop('channels', in_channels)
        if channels != in_channels:
            raise ValueError(
                f'IdentityHead codes keep the {in_channels} '
                f'feature channels; got channels={channels}'
            )
        super().__init__(in_channels=in_channels, channels=channels, **kwargs)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """The selected backbone feature map (B, C, h, w)."""
        return self._transform_inputs(inputs)
