# Copyright (c) mmuss contributors. All rights reserved.
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class CrossModalHarmonization(nn.Module):
    """UniM2's cross-modal head (CMH) Phi: the code S -> S_X.

    UniM2 supplement Sec. 3, Eq. 7 (``s^X = Phi(s)``) and the official
    code's ``modal_projection_head``: ``Conv1x1(D -> D) -> ReLU ->
    Conv1x1(D -> D)`` on the shared code S, giving the proxy S_X against
    which an auxiliary modality's correspondence loss is computed, so that
    S itself stays aligned with the RGB features (Eq. 8: the auxiliary
    gradient reaches S only through the Jacobian of Phi). One Phi is
    shared by every non-RGB modality, as upstream.

    Args:
        channels (int): D, the code dimension.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=1),
        )

    def forward(self, codes: Tensor) -> Tensor:
        """S_X (B, D, h, w) of the codes S (B, D, h, w)."""
        return self.layers(codes)
