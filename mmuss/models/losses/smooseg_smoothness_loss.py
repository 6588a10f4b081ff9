# Copyright (c) mmuss contributors. All rights reserved.
"""SmooSeg's smoothness prior and teacher pseudo-label data term.

`SmooSeg <https://arxiv.org/abs/2310.17874>`_ (Lan et al., NeurIPS 2023)
casts unsupervised segmentation as energy minimisation: a smoothness term
makes patches with correlated features take similar prototype
distributions (and dissimilar ones different), a data term trains the
student prototypes on the teacher prototypes' hard assignments.
"""

from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .stego_correspondence_loss import (
    feature_correlation,
    random_derangement,
    stego_super_perm,
    tensor_correlation,
)


def smoothness_loss_map(
    feature_corr: Tensor, prob_corr: Tensor, shift: float
) -> Tensor:
    """Pairwise smoothness energy ``(F - b) * (1 - cos(p_i, p_j))``.

    SmooSeg's smoothness prior over patch pairs (i, j): a pair with feature
    correlation above the shift b is penalised for having different
    prototype distributions p, one below it for having similar ones.

    Args:
        feature_corr (Tensor): Centred feature correlations (no gradient).
        prob_corr (Tensor): Cosines of the probability vectors.
        shift (float): b.

    Returns:
        Tensor: Energy of every pair.
    """
    return (feature_corr - shift) * (1 - prob_corr)


def prototype_pseudo_label_loss(
    student_logits: Tensor, teacher_similarity: Tensor
) -> Tensor:
    """SmooSeg's data term: cross-entropy of the student prototype scores
    (raw cosines as logits, as upstream) against the teacher's hard
    assignment ``argmax_k cos(z, teacher_k)``.

    Args:
        student_logits (Tensor): (B, K, H, W) student cosines.
        teacher_similarity (Tensor): (B, K, H, W) teacher cosines.

    Returns:
        Tensor: Scalar loss (gradient to the student logits only).
    """
    return F.cross_entropy(
        student_logits, teacher_similarity.detach().argmax(dim=1)
    )


@MODELS.register_module()
class SmooSegSmoothnessLoss(nn.Module):
    """SmooSeg smoothness loss over all patch pairs, self and random.

    ``L = w_self mean(E(x, x)) + w_rand mean(E(x, x_rand))`` with E from
    :func:`smoothness_loss_map`, evaluated densely on every patch pair (no
    point sampling, as upstream), features centred as STEGO's upstream code
    does (``centering='stego'``, SmooSeg's choice), and one random other
    image of the batch per image (``negative_sampling``: ``'derangement'``
    by default or upstream's ``'stego'`` super-permutation). SmooSeg sums the
    two terms with unit weights.

    Args:
        shift_self (float): b for the self pairs. Defaults to -0.02.
        shift_rand (float): b for the random pairs. Defaults to 0.5.
        weight_self (float): Defaults to 1.
        weight_rand (float): Defaults to 1.
        centering (str, optional): Feature centring, see
            :func:`feature_correlation`. Defaults to ``'stego'``.
        negative_sampling (str): ``'derangement'`` or ``'stego'``.
        loss_name (str): Defaults to ``'loss_smooth'``.
    """

    def __init__(
        self,
        shift_self: float = -0.02,
        shift_rand: float = 0.5,
        weight_self: float = 1.0,
        weight_rand: float = 1.0,
        centering: Optional[str] = 'stego',
        negative_sampling: str = 'derangement',
        loss_name: str = 'loss_smooth',
    ) -> None:
        super().__init__()
        if negative_sampling not in ('derangement', 'stego'):
            raise ValueError(
                'negative_sampling must be "derangement" or '
                f'"stego", got {negative_sampling!r}'
            )
        self.shift_self = shift_self
        self.shift_rand = shift_rand
        self.weight_self = weight_self
        self.weight_rand = weight_rand
        self.centering = centering
        self.negative_sampling = negative_sampling
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def pair_energy(
        self,
        feats1: Tensor,
        feats2: Tensor,
        probs1: Tensor,
        probs2: Tensor,
        shift: float,
    ) -> Tensor:
        """Mean smoothness energy of one pairing."""
        prob_corr = tensor_correlation(
            F.normalize(probs1, dim=1, eps=1e-10),
            F.normalize(probs2, dim=1, eps=1e-10),
        )
        return smoothness_loss_map(
            feature_correlation(feats1, feats2, self.centering),
            prob_corr,
            shift,
        ).mean()

    def forward(
        self,
        feats: Tensor,
        probs: Tensor,
        permutation: Optional[Tensor] = None,
    ) -> Dict[str, Tensor]:
        """Compute the loss.

        Args:
            feats (Tensor): Frozen features (B, C, h, w).
            probs (Tensor): Prototype probabilities (B, K, h, w).
            permutation (Tensor, optional): The random pairing.

        Returns:
            dict[str, Tensor]: ``loss_name`` and the terms ``smooth_self``,
            ``smooth_rand``.
        """
        terms = dict(
            self=self.pair_energy(feats, feats, probs, probs, self.shift_self)
        )
        if self.weight_rand:
            if permutation is None:
                if feats.shape[0] < 2:
                    raise ValueError(
                        'SmooSeg random pairs need at least 2 images per batch'
                    )
                draw = (
                    random_derangement
                    if (self.negative_sampling == 'derangement')
                    else stego_super_perm
                )
                permutation = draw(feats.shape[0], feats.device)
            terms['rand'] = self.pair_energy(
                feats,
                feats[permutation],
                probs,
                probs[permutation],
                self.shift_rand,
            )
        total = self.weight_self * terms[
            'self'
        ] + self.weight_rand * terms.get(
            'rand', torch.zeros_like(terms['self'])
        )
        losses = {self.loss_name: total}
        losses.update({f'smooth_{k}': v.detach() for k, v in terms.items()})
        return losses
