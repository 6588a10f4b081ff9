# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's cross-modal structure alignment loss (L_align, §3.2/§3.5)."""

from typing import Dict

import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

REDUCTIONS = ('mean', 'sum', 'none')


def cosine_alignment_loss(
    semantic: Tensor, depth: Tensor, eps: float = 1e-8
) -> Tensor:
    """MSSSeg L_align (§3.2): ``1 - cos(v_S, v_D)`` per image.

    The paper's displayed equation is lost; the prose asks for "a cosine
    similarity loss" between the semantic and depth structure vectors of
    the DBC module, so that the segmentation's structure agrees with the
    scene's layout. 0 for parallel vectors, 2 for opposite ones.

    Args:
        semantic (Tensor): v_S, (B, d).
        depth (Tensor): v_D, (B, d).
        eps (float): Guards the norms of zero vectors.

    Returns:
        Tensor: (B,) losses.
    """
    if semantic.dim() != 2 or semantic.shape != depth.shape:
        raise ValueError(
            'semantic and depth vectors must both be (B, d), got '
            f'{tuple(semantic.shape)} and {tuple(depth.shape)}'
        )
    return 1 - F.cosine_similarity(semantic, depth, dim=1, eps=eps)


@MODELS.register_module()
class DBCAlignmentLoss(nn.Module):
    """MSSSeg's cross-modal structure alignment loss L_align (§3.2, a term
    of Eq. 11): the cosine distance between the DBC module's semantic and
    depth vectors (:func:`cosine_alignment_loss`).

    Both vectors keep their gradient (the paper stops none; both MLPs and,
    through soft semantic masks, the segmentation learn from it). Its
    weight λ_align in Eq. 11 is not given; 1 by default.

    Args:
        loss_weight (float): λ_align. Defaults to 1.
        reduction (str): 'mean' (default) or 'sum' over the batch, or
            'none' (per image).
        loss_name (str): Defaults to ``'loss_align'``.
    """

    def __init__(
        self,
        loss_weight: float = 1.0,
        reduction: str = 'mean',
        loss_name: str = 'loss_align',
    ) -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(
                f'reduction must be one of {REDUCTIONS}, got {reduction!r}'
            )
        self.loss_weight = loss_weight
        self.reduction = reduction
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, semantic: Tensor, depth: Tensor) -> Dict[str, Tensor]:
        """``{loss_name: λ · reduce(1 - cos(v_S, v_D))}``.

        Args:
            semantic (Tensor): v_S, (B, d).
            depth (Tensor): v_D, (B, d).
        """
        loss = cosine_alignment_loss(semantic, depth)
        if self.reduction == 'mean':
            loss = loss.mean()
        elif self.reduction == 'sum':
            loss = loss.sum()
        return {self.loss_name: self.loss_weight * loss}
