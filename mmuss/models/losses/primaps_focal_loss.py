# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def class_confidence_weights(probs: Tensor, gamma: float = 2.0) -> Tensor:
    """Per-class weights ``(1 - chi_k)^gamma`` of PriMaPs Eq. 10.

    ``chi_k`` is the class-wise confidence, the softmax probability of class
    k averaged over the batch's pixels (detached: the weights are
    constants).

    Args:
        probs (Tensor): (B, K, H, W) softmax predictions y'.
        gamma (float): Focusing exponent. Defaults to 2.

    Returns:
        Tensor: (K,) weights.
    """
    confidence = probs.detach().mean(dim=(0, 2, 3))
    return (1 - confidence) ** gamma


def primaps_focal_loss(
    logits: Tensor, labels: Tensor, gamma: float = 2.0, ignore_index: int = 255
) -> Tensor:
    """Class-confidence weighted cross-entropy (PriMaPs Eq. 10).

    ``-sum_{k,i,j} (1 - chi_k)^2 P*_{k,i,j} log y'_{k,i,j}`` with
    ``y' = softmax(logits)``, P* the one-hot pseudo label. The sum is
    divided by the number of pixels (ignored ones included), as upstream;
    the paper writes the sum, and with Adam the normalisation only rescales
    epsilon.

    Args:
        logits (Tensor): (B, K, H, W) student scores.
        labels (Tensor): (B, H, W) pseudo labels, ``ignore_index`` where
            there is none.
        gamma (float): Defaults to 2.
        ignore_index (int): Defaults to 255.

    Returns:
        Tensor: Scalar loss.
    """
    weights = class_confidence_weights(logits.softmax(dim=1), gamma)
    per_pixel = F.cross_entropy(
        logits,
        labels,
        weight=weights,
        ignore_index=ignore_index,
        reduction='none',
    )
    return per_pixel.mean()


@MODELS.register_module()
class PrimapsFocalLoss(nn.Module):
    """Module form of :func:`primaps_focal_loss` (PriMaPs Eq. 10).

    Args:
        gamma (float): Defaults to 2.
        ignore_index (int): Defaults to 255.
        loss_name (str): Defaults to ``'loss_focal'``.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        ignore_index: int = 255,
        loss_name: str = 'loss_focal',
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, logits: Tensor, labels: Tensor) -> Dict[str, Tensor]:
        return {
            self.loss_name: primaps_focal_loss(
                logits, labels, self.gamma, self.ignore_index
            )
        }


def mask_mode_labels(
    mask_ids: Tensor,
    prediction: Tensor,
    num_classes: int,
    ignore_index: int = 255,
) -> Tensor:
    """PriMaPs pseudo label: every mask takes the class predicted most often
    inside it (Sec. 3.2, E-step).

    Args:
        mask_ids (Tensor): (B, H, W) mask ids, ``ignore_index`` = no mask.
        prediction (Tensor): (B, H, W) class ids of the momentum prototypes.
        num_classes (int): K.
        ignore_index (int): Defaults to 255.

    Returns:
        Tensor: (B, H, W) int64 pseudo labels (``ignore_index`` outside
        masks).
    """
    batch = mask_ids.shape[0]
    ids = mask_ids.long().reshape(batch, -1)
    prediction = prediction.long().reshape(batch, -1)
    valid = ids != ignore_index
    num_masks = int(ids[valid].max()) + 1 if valid.any() else 1
    image = torch.arange(batch, device=ids.device)[:, None].expand_as(ids)
    flat = (
        image * num_masks + ids.clamp(max=num_masks - 1)
    ) * num_classes + prediction
    counts = torch.bincount(
        flat[valid], minlength=batch * num_masks * num_classes
    ).reshape(batch, num_masks, num_classes)
    mode = counts.argmax(dim=2)  # (B, num_masks)
    labels = mode.gather(1, ids.clamp(max=num_masks - 1))
    labels[~valid] = ignore_index
    return labels.reshape(mask_ids.shape)
