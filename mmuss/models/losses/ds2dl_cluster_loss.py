# Copyright (c) mmuss contributors. All rights reserved.
"""DS²DL's cluster structure: online codes, local-to-global prediction,
orthogonality and self-labelling (Eqs. 4-7)."""

import math
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.ema_prototypes import EMAPrototypes
from .smooseg_smoothness_loss import prototype_pseudo_label_loss

REDUCTIONS = ('sum', 'mean')


@torch.no_grad()
def sinkhorn_codes(
    scores: Tensor,
    epsilon: float = 0.1,
    num_iters: int = 3,
    per_image: bool = True,
) -> Tensor:
    """DS²DL Eq. 5: online codes by Sinkhorn-Knopp (Cuturi, 2013).

    Approximates ``max_Q Tr(Q^T C^T X) + eps H(Q)`` subject to ``Q^T 1_C =
    1_N`` (each pixel's code sums to 1) and ``Q 1_N = N / C 1_C`` (the N
    pixels split equally over the C prototypes), as in SwAV: ``Q =
    exp(scores / eps)``, then ``num_iters`` times normalise the rows to N/C
    and the columns to 1. The last step normalises the columns, so every
    code is exactly a distribution and the prototype marginals are met
    approximately (exactly in the limit). Computed in the log domain, in
    float32, without gradient.

    Args:
        scores (Tensor): (B, C, N) prototype scores C~^T x of the pixels
            (cosines with the global prototypes).
        epsilon (float): eps, the entropy weight. Defaults to 0.1.
        num_iters (int): Sinkhorn iterations. Defaults to 3 (the paper's).
        per_image (bool): Equipartition over each image's N pixels, as Eq. 5
            is printed; False: over all B x N pixels of the batch (SwAV).
            Defaults to True.

    Returns:
        Tensor: (B, C, N) codes q_g, each column a distribution over C.
    """
    batch, clusters, pixels = scores.shape
    log_q = scores.float() / epsilon
    if not per_image:  # one transport problem over the whole batch
        log_q = log_q.transpose(0, 1).reshape(1, clusters, batch * pixels)
    num_samples = log_q.shape[2]
    log_row_mass = math.log(num_samples / clusters)
    for _ in range(num_iters):
        log_q = log_q - torch.logsumexp(log_q, dim=2, keepdim=True)
        log_q = log_q + log_row_mass
        log_q = log_q - torch.logsumexp(log_q, dim=1, keepdim=True)
    codes = log_q.exp()
    if not per_image:
        codes = codes.reshape(clusters, batch, pixels).transpose(0, 1)
    return codes.to(scores.dtype)


def local_to_global_loss(local_logits: Tensor, global_codes: Tensor) -> Tensor:
    """DS²DL Eq. 4: local-to-global code prediction, per pixel.

    ``L_L2G(x) = -sum_k q_g^(k) log q_l^(k)``, q_l = softmax_k(x^T c_k / tau)
    over the local prototypes (``local_logits`` already divided by tau) and
    q_g the global code (Eq. 5, a fixed target).

    Args:
        local_logits (Tensor): (B, C, ...) x^T c_k / tau.
        global_codes (Tensor): (B, C, ...) q_g, columns summing to 1.

    Returns:
        Tensor: (B, ...) cross-entropy of every pixel.
    """
    return -(global_codes.detach() * F.log_softmax(local_logits, dim=1)).sum(1)


def orthogonality_loss(prototypes: Tensor, reduction: str = 'sum') -> Tensor:
    """DS²DL Eq. 6: ``||C^T C - I||_1``, element-wise l1 over the C x C
    Gram matrix of the prototypes (columns of C; here the rows of the
    (C, D) argument).

    Args:
        prototypes (Tensor): (C, D) prototypes (normalise them first for
            the unit-diagonal reading).
        reduction (str): ``'sum'`` (as printed) or ``'mean'`` (over the
            C^2 entries). Defaults to ``'sum'``.

    Returns:
        Tensor: Scalar.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be in {REDUCTIONS}, got {reduction}')
    gram = prototypes @ prototypes.t()
    eye = torch.eye(gram.shape[0], device=gram.device, dtype=gram.dtype)
    deviation = (gram - eye).abs()
    return deviation.sum() if reduction == 'sum' else deviation.mean()


def self_labelling_loss(logits: Tensor, reduction: str = 'mean') -> Tensor:
    """DS²DL Eq. 7: cross-entropy of the predictions to their own argmax.

    ``y_i = argmax_k y^_{i,k}``, ``L_data = -sum_i sum_k 1(y_i = k) log
    y^_{i,k}`` with y^ = softmax(logits) over dim 1; the pseudo label is a
    fixed target.

    Args:
        logits (Tensor): (B, C, ...) logits of y^.
        reduction (str): ``'mean'`` over the pixels (the default, so that
            the term does not scale with the image size) or ``'sum'`` (as
            printed).

    Returns:
        Tensor: Scalar.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be in {REDUCTIONS}, got {reduction}')
    pseudo = logits.detach().argmax(dim=1)
    return F.cross_entropy(logits, pseudo, reduction=reduction)


@MODELS.register_module()
class DS2DLClusterLoss(nn.Module):
    """DS²DL's cluster-structure loss L_clus = L_L2G + L_orth + L_data
    (Eqs. 4-7), one weight per term.

    Gradient routing (the paper does not state it): L_L2G trains the codes
    and the local prototypes against the fixed global codes; L_orth trains
    the local prototypes (Eq. 6 prints C, the EMA set, which has no
    gradient; the local set is what can be made orthogonal, and the EMA
    inherits it); L_data trains the codes and the prototypes of its
    predictions.

    Args:
        temperature (float): tau of q_l. Defaults to 0.1.
        epsilon (float): eps of Eq. 5. Defaults to 0.1.
        sinkhorn_iters (int): Defaults to 3.
        sinkhorn_per_image (bool): Equipartition per image (as printed) or
            over the batch. Defaults to True.
        orth_reduction (str): ``'sum'`` (as printed) or ``'mean'``.
            Defaults to ``'sum'``.
        pseudo_label_source (str): y^ of Eq. 7: ``'local'`` (softmax of the
            local prototypes at tau, trained through codes and local
            prototypes) or ``'global'`` (the global prototypes' argmax as
            target for the local cosines of detached codes: SmooSeg's data
            term, :func:`prototype_pseudo_label_loss`). Defaults to
            ``'local'``.
        loss_l2g_weight (float): Defaults to 1.
        loss_orth_weight (float): Defaults to 1.
        loss_data_weight (float): Defaults to 1.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        epsilon: float = 0.1,
        sinkhorn_iters: int = 3,
        sinkhorn_per_image: bool = True,
        orth_reduction: str = 'sum',
        pseudo_label_source: str = 'local',
        loss_l2g_weight: float = 1.0,
        loss_orth_weight: float = 1.0,
        loss_data_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if pseudo_label_source not in ('local', 'global'):
            raise ValueError(
                'pseudo_label_source must be "local" or "global", got '
                f'{pseudo_label_source!r}'
            )
        if orth_reduction not in REDUCTIONS:
            raise ValueError(f'orth_reduction must be in {REDUCTIONS}')
        self.temperature = temperature
        self.epsilon = epsilon
        self.sinkhorn_iters = sinkhorn_iters
        self.sinkhorn_per_image = sinkhorn_per_image
        self.orth_reduction = orth_reduction
        self.pseudo_label_source = pseudo_label_source
        self.loss_l2g_weight = loss_l2g_weight
        self.loss_orth_weight = loss_orth_weight
        self.loss_data_weight = loss_data_weight

    def global_codes(self, codes: Tensor, prototypes: EMAPrototypes) -> Tensor:
        """q_g (B, C, h, w): Sinkhorn codes (Eq. 5) of the global
        prototypes' cosines."""
        scores = prototypes.teacher_similarity(codes.detach())
        batch, clusters, height, width = scores.shape
        q = sinkhorn_codes(
            scores.flatten(2),
            self.epsilon,
            self.sinkhorn_iters,
            self.sinkhorn_per_image,
        )
        return q.reshape(batch, clusters, height, width)

    def forward(
        self, codes: Tensor, prototypes: EMAPrototypes
    ) -> Dict[str, Tensor]:
        """The weighted terms of L_clus whose weight is not zero.

        Args:
            codes (Tensor): (B, D, h, w) codes (with gradient).
            prototypes (EMAPrototypes): local (student) and global
                (teacher) prototypes.

        Returns:
            dict[str, Tensor]: ``loss_l2g``, ``loss_orth``, ``loss_data``.
        """
        losses = {}
        local_logits = prototypes.student_similarity(codes) / self.temperature
        if self.loss_l2g_weight:
            target = self.global_codes(codes, prototypes)
            losses['loss_l2g'] = self.loss_l2g_weight * (
                local_to_global_loss(local_logits, target).mean()
            )
        if self.loss_orth_weight:
            local = F.normalize(prototypes.student, dim=1)
            losses['loss_orth'] = self.loss_orth_weight * orthogonality_loss(
                local, self.orth_reduction
            )
        if self.loss_data_weight:
            if self.pseudo_label_source == 'local':
                data = self_labelling_loss(local_logits)
            else:
                data = prototype_pseudo_label_loss(
                    prototypes.student_similarity(codes.detach()),
                    prototypes.teacher_similarity(codes),
                )
            losses['loss_data'] = self.loss_data_weight * data
        return losses
