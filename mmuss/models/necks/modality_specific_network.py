# Copyright (c) mmuss contributors. All rights reserved.
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ModalitySpecificNetwork(nn.Module):
    """One modality's refinement of frozen backbone features (UniM2 MSN).

    UniM2 (Zhang et al., "Towards Unsupervised Multi-modal Semantic
    Segmentation"; supplement Sec. 7.1 and the official code's
    ``ModalityNetwork``): a trainable bottleneck on each modality's frozen
    features before fusion, ``Conv1x1(C -> C/2) -> ReLU -> Conv1x1(C/2 ->
    C)``, with an optional residual connection (off in every released
    config).

    Args:
        in_channels (int): C, the feature channels (kept).
        residual (bool): Add the input to the output. Defaults to False.
    """

    def __init__(self, in_channels: int, residual: bool = False) -> None:
        super().__init__()
        if in_channels < 2:
            raise ValueError(
                f'in_channels must be >= 2 (C/2 hidden), got {in_channels}'
            )
        self.residual = residual
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, in_channels // 2, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels // 2, in_channels, kernel_size=1),
        )

    def forward(self, feats: Tensor) -> Tensor:
        """Refined features (B, C, h, w) of features (B, C, h, w)."""
        out = self.layers(feats)
        return out + feats if self.residual else out
