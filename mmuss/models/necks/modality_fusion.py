# Copyright (c) mmuss contributors. All rights reserved.
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

FUSION_MODES = ('mean', 'sum', 'max', 'concat_conv', 'progressive_conv')


@MODELS.register_module()
class ModalityFusion(nn.Module):
    """Fuse per-modality feature maps of the frozen backbone into one map.

    The fusion step of multi-modal heads (UniM2 supplement, Sec. "fusion":
    sum or "Cat+Conv"). Given M maps (B, C, h, w) of the same backbone on
    aligned modalities (the image first, then ``required_modalities`` in
    order):

    - ``'mean'``, ``'sum'``, ``'max'``: element-wise over modalities
      (no parameters; out channels = C);
    - ``'concat_conv'``: concatenation (B, M*C, h, w), then
      Conv1x1(M*C -> (M*C + C_out) / 2) -> ReLU -> Conv1x1(-> C_out);
    - ``'progressive_conv'``: the concatenation reduced one modality at a
      time, Conv1x1(M*C -> (M-1)*C) -> BN -> ReLU -> ... -> Conv1x1(C ->
      C_out) (M convolutions, BN + ReLU between them), as the UniM2 code
      fuses MCubeS's up to four modalities.

    Args:
        in_channels (int): C, the channels of each modality's map.
        num_modalities (int): M.
        mode (str): One of ``FUSION_MODES``. Defaults to ``'mean'``.
        out_channels (int, optional): C_out of the conv modes; defaults
            to C.
        normalize (bool): L2-normalise each map over channels first (as
            UniM2 does before its concatenation). Defaults to False.
    """

    def __init__(
        self,
        in_channels: int,
        num_modalities: int,
        mode: str = 'mean',
        out_channels: Optional[int] = None,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        if mode not in FUSION_MODES:
            raise ValueError(
                f'mode must be one of {FUSION_MODES}, got {mode!r}'
            )
        if num_modalities < 1:
            raise ValueError(
                f'num_modalities must be >= 1, got {num_modalities}'
            )
        self.mode = mode
        self.in_channels = in_channels
        self.num_modalities = num_modalities
        self.normalize = normalize
        self.out_channels = out_channels or in_channels
        if 'conv' not in mode and self.out_channels != in_channels:
            raise ValueError(
                f'mode {mode!r} keeps the {in_channels} channels; '
                f'out_channels={out_channels} needs a conv mode'
            )
        self.project = None
        if mode == 'concat_conv':
            stacked = num_modalities * in_channels
            hidden = (stacked + self.out_channels) // 2
            self.project = nn.Sequential(
                nn.Conv2d(stacked, hidden, kernel_size=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(hidden, self.out_channels, kernel_size=1),
            )
        elif mode == 'progressive_conv':
            self.project = progressive_fusion_layers(
                in_channels, num_modalities, self.out_channels
            )

    def forward(self, feature_maps: List[Tensor]) -> Tensor:
        """The fused map (B, C_out, h, w) of M maps (B, C, h, w)."""
        if len(feature_maps) != self.num_modalities:
            raise ValueError(
                f'ModalityFusion was built for {self.num_modalities} '
                f'modalities, got {len(feature_maps)} maps'
            )
        shapes = {tuple(f.shape) for f in feature_maps}
        if len(shapes) != 1:
            raise ValueError(
                f'modality feature maps differ in shape: {sorted(shapes)}'
            )
        if self.normalize:
            feature_maps = [F.normalize(f, dim=1) for f in feature_maps]
        stacked = torch.stack(feature_maps)
        if self.mode == 'mean':
            return stacked.mean(0)
        if self.mode == 'sum':
            return stacked.sum(0)
        if self.mode == 'max':
            return stacked.max(0).values
        return self.project(torch.cat(feature_maps, dim=1))


def progressive_fusion_layers(
    in_channels: int, num_modalities: int, out_channels: int
) -> nn.Sequential:
    """UniM2's progressive Cat+Conv (the code's MCubeS fusion): M 1x1
    convolutions M*C -> (M-1)*C -> ... -> C -> C_out, each but the last
    followed by BatchNorm and ReLU."""
    layers = []
    for step in range(num_modalities):
        remaining = num_modalities - step
        last = remaining == 1
        out = out_channels if last else in_channels * (remaining - 1)
        layers.append(nn.Conv2d(in_channels * remaining, out, kernel_size=1))
        if not last:
            layers += [nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)
