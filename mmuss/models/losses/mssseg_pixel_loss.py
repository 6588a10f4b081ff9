# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's pixel-level losses (§3.5): L_pixel = L_cont + L_distill.

The paper's Eq. 11 was lost in the text extraction; §3.5 describes the
terms in prose. The pixel-prototype contrastive loss "pulls each pixel
feature from the Seg Head embedding toward its corresponding class
prototype from the Pseudo Head while pushing it away from all other
prototypes" (InfoNCE); the distillation loss "applies cross-entropy between
the Seg Head's softmax probability map and the stop-gradiented
pseudo-label" (Table 3: it "compares the prototypical cluster outputs of
both pathways").
"""

from typing import Dict

import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def pixel_prototype_infonce(
    embeddings: Tensor,
    prototypes: Tensor,
    labels: Tensor,
    temperature: float = 0.1,
    ignore_index: int = 255,
) -> Tensor:
    """Pixel-prototype contrastive loss ``L_cont``, MSSSeg §3.5 (InfoNCE).

    For pixel i with pseudo-label y_i and L2-normalised embedding z_i,
    ``-log(exp(cos(z_i, c_{y_i}) / τ) / Σ_k exp(cos(z_i, c_k) / τ))``:
    the positive is its class prototype, the negatives all other
    prototypes. Averaged over the labelled pixels. τ is not given in the
    paper (0.1 by default, the InfoNCE temperature of MoCo v2 / SupCon).

    Args:
        embeddings (Tensor): Seg Head embeddings (B, D, h, w).
        prototypes (Tensor): Class prototypes (K, D) (the Pseudo Head's;
            detach them to train the embeddings only).
        labels (Tensor): Pseudo labels (B, h, w) in [0, K) or
            ``ignore_index``.
        temperature (float): τ. Defaults to 0.1.
        ignore_index (int): Unlabelled pixels. Defaults to 255.

    Returns:
        Tensor: The mean loss (0 on the graph when no pixel is labelled).
    """
    if embeddings.shape[1] != prototypes.shape[1]:
        raise ValueError(
            f'embeddings have {embeddings.shape[1]} channels but the '
            f'prototypes {prototypes.shape[1]}'
        )
    if labels.shape != (embeddings.shape[0], *embeddings.shape[2:]):
        raise ValueError(
            f'labels {tuple(labels.shape)} do not match embeddings '
            f'{tuple(embeddings.shape)}'
        )
    similarity = F.conv2d(
        F.normalize(embeddings, dim=1),
        F.normalize(prototypes, dim=1)[:, :, None, None],
    )
    return masked_cross_entropy(similarity / temperature, labels, ignore_index)


def distillation_cross_entropy(
    seg_logits: Tensor, pseudo_labels: Tensor, ignore_index: int = 255
) -> Tensor:
    """Distillation loss ``L_distill``, MSSSeg §3.5: cross-entropy of the
    Seg Head's softmax probability map against the stop-gradiented
    pseudo-labels (they are detached here).

    Args:
        seg_logits (Tensor): Seg Head class scores (B, K, h, w).
        pseudo_labels (Tensor): (B, h, w) in [0, K) or ``ignore_index``.
        ignore_index (int): Unlabelled pixels. Defaults to 255.
    """
    return masked_cross_entropy(
        seg_logits, pseudo_labels.detach(), ignore_index
    )


def masked_cross_entropy(
    logits: Tensor, labels: Tensor, ignore_index: int = 255
) -> Tensor:
    """Mean cross-entropy over the labelled pixels; a zero on the graph of
    ``logits`` when none is labelled (instead of NaN)."""
    labels = labels.long()
    if not (labels != ignore_index).any():
        return logits.sum() * 0
    return F.cross_entropy(logits, labels, ignore_index=ignore_index)


@MODELS.register_module()
class MSSSegPixelLoss(nn.Module):
    """MSSSeg's pixel-level loss ``L_pixel = λ_cont L_cont + λ_distill
    L_distill`` (§3.5; the λ are not given: 1 by default).

    Args:
        temperature (float): τ of :func:`pixel_prototype_infonce`.
        loss_cont_weight (float): λ_cont. Defaults to 1.
        loss_distill_weight (float): λ_distill. Defaults to 1.
        ignore_index (int): Unlabelled pixels. Defaults to 255.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        loss_cont_weight: float = 1.0,
        loss_distill_weight: float = 1.0,
        ignore_index: int = 255,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be positive: {temperature}')
        self.temperature = temperature
        self.loss_cont_weight = loss_cont_weight
        self.loss_distill_weight = loss_distill_weight
        self.ignore_index = ignore_index

    def forward(
        self,
        embeddings: Tensor,
        seg_logits: Tensor,
        prototypes: Tensor,
        pseudo_labels: Tensor,
    ) -> Dict[str, Tensor]:
        """``loss_cont`` and ``loss_distill`` (weighted).

        Args:
            embeddings (Tensor): Seg Head embeddings (B, D, h, w).
            seg_logits (Tensor): Seg Head class scores (B, K, h, w).
            prototypes (Tensor): Pseudo Head prototypes (K, D).
            pseudo_labels (Tensor): (B, h, w).
        """
        losses = {}
        if self.loss_cont_weight:
            losses['loss_cont'] = self.loss_cont_weight * (
                pixel_prototype_infonce(
                    embeddings,
                    prototypes,
                    pseudo_labels,
                    self.temperature,
                    self.ignore_index,
                )
            )
        if self.loss_distill_weight:
            losses['loss_distill'] = self.loss_distill_weight * (
                distillation_cross_entropy(
                    seg_logits, pseudo_labels, self.ignore_index
                )
            )
        return losses
