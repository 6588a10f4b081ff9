# Copyright (c) mmuss contributors. All rights reserved.
import torch.nn as nn
from torch import Tensor


class CodeProjection(nn.Module):
    """Linear plus two-layer SiLU projection of frozen features to codes.

    ``z = W_lin drop(f) + W_2 SiLU(W_1 drop(f))`` with 1x1 convolutions
    (W_1: C_f -> C_f, W_2 and W_lin: C_f -> D), each branch after its own
    ``Dropout2d`` draw. SmooSeg's projection (Lan et al., NeurIPS 2023; the
    STEGO-style linear + nonlinear head with SiLU), reused by DS²DL ("a
    linear layer and a two-layer MLP with SiLU activations", D = 64).

    Args:
        in_channels (int): Feature channels C_f.
        channels (int): Code dimension D.
        dropout_ratio (float): ``Dropout2d`` ratio before each branch.
            Defaults to 0.
    """

    def __init__(
        self, in_channels: int, channels: int, dropout_ratio: float = 0.0
    ) -> None:
        super().__init__()
        self.linear = nn.Conv2d(in_channels, channels, kernel_size=1)
        self.nonlinear = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, kernel_size=1),
            nn.SiLU(),
            nn.Conv2d(in_channels, channels, kernel_size=1),
        )
        self.dropout = (
            nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        )

    def forward(self, feats: Tensor) -> Tensor:
        """Codes (B, D, h, w) of features (B, C_f, h, w)."""
        return self.linear(self.dropout(feats)) + self.nonlinear(
            self.dropout(feats)
        )
