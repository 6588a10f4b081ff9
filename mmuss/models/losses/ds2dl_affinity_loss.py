# Copyright (c) mmuss contributors. All rights reserved.
"""DS²DL's affinity structure: pixel-pair classification (Eqs. 1-3)."""

from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .stego_correspondence_loss import random_derangement


def pair_classification_loss(
    similarity: Tensor, pair_label: Tensor, bias: Tensor | float
) -> Tensor:
    """DS²DL Eq. 1: binary classification of pixel pairs, per pair.

    ``y * log(1 + exp(-(S + b))) + (1 - y) * log(1 + exp(S + b))``, written
    with ``softplus`` for stability. The decision boundary is ``S + b = 0``.

    Args:
        similarity (Tensor): S(x_i, x_j), the normalised dot products.
        pair_label (Tensor): y(x_i, x_j) in [0, 1], same shape.
        bias (Tensor | float): The learnable scalar b.

    Returns:
        Tensor: The loss of every pair (same shape; not reduced).
    """
    logit = similarity + bias
    return pair_label * F.softplus(-logit) + (1 - pair_label) * F.softplus(
        logit
    )


def pairwise_soft_label(label_i: Tensor, label_j: Tensor) -> Tensor:
    """DS²DL Eq. 2: pairwise soft label y = L_xi · L_xj.

    The dot product of the two pixels' label features (probabilities over
    the C clusters): ``sum_c q(c | x_i) q(c | x_j)``, in [0, 1].

    Args:
        label_i (Tensor): (..., n, C) label features of the first pixels.
        label_j (Tensor): (..., m, C) label features of the second pixels.

    Returns:
        Tensor: (..., n, m) soft labels of all pairs.
    """
    return label_i @ label_j.transpose(-1, -2)


def reversed_directional_mining_loss(
    similarity: Tensor, pair_label: Tensor, bias: Tensor | float, r: float
) -> Tensor:
    """DS²DL Eq. 3: reversed directional mining, per pair.

    With t = S + b: ``y * Q1(t) + (1 - y) * Q2(t)``, Q1(t) = log(1 +
    exp(-t / r)) (positives; gradient -(1/r) sigma(-t/r): easy positives)
    and Q2(t) = log(1 + exp(r t)) (negatives; gradient r sigma(r t): hard
    negatives). r = 1 is Eq. 1.

    Args:
        similarity (Tensor): S(x_i, x_j).
        pair_label (Tensor): y(x_i, x_j) in [0, 1], same shape.
        bias (Tensor | float): The learnable scalar b.
        r (float): Mining strength, > 0 (the paper uses r > 1).

    Returns:
        Tensor: The loss of every pair (not reduced).
    """
    t = similarity + bias
    return pair_label * F.softplus(-t / r) + (1 - pair_label) * F.softplus(
        r * t
    )


def _pair_block_sum(
    codes_rows: Tensor,
    codes: Tensor,
    labels_rows: Tensor,
    labels: Tensor,
    bias: Tensor,
    r: float,
    diagonal_offset: int,
) -> Tensor:
    """Sum of Eq. 3 over the pairs (rows x all) of a block, (B,) per image.

    ``diagonal_offset`` >= 0 excludes the pairs (i, i) whose row index is
    ``diagonal_offset + local row``; -1 keeps every pair.
    """
    similarity = codes_rows @ codes.transpose(1, 2)
    pair_label = pairwise_soft_label(labels_rows, labels)
    loss = reversed_directional_mining_loss(similarity, pair_label, bias, r)
    if diagonal_offset >= 0:
        rows = torch.arange(codes_rows.shape[1], device=loss.device)
        loss = loss.clone()
        loss[:, rows, rows + diagonal_offset] = 0
    return loss.sum(dim=(1, 2))


def all_pairs_mining_loss(
    codes_a: Tensor,
    labels_a: Tensor,
    codes_b: Tensor,
    labels_b: Tensor,
    bias: Tensor,
    r: float,
    exclude_diagonal: bool = False,
    chunk_size: Optional[int] = None,
) -> Tensor:
    """Mean of Eq. 3 over all pixel pairs (a_i, b_j) of each image pair.

    Memory-lean: with ``chunk_size`` the N x N pairs are taken in blocks of
    ``chunk_size`` rows, each block's graph recomputed in the backward pass
    (activation checkpointing), so no (B, N, N) tensor is kept for the
    backward and none of (B, N, N, D) is ever built.

    Args:
        codes_a (Tensor): (B, N, D) L2-normalised codes.
        labels_a (Tensor): (B, N, C) label features (detached).
        codes_b (Tensor): (B, M, D) codes paired with ``codes_a``.
        labels_b (Tensor): (B, M, C) their label features.
        bias (Tensor): b.
        r (float): Mining strength.
        exclude_diagonal (bool): Leave out the pairs (i, i) (intra-image
            pairs, where a and b are the same image). Defaults to False.
        chunk_size (int, optional): Rows per block; None: one block.

    Returns:
        Tensor: Scalar mean over B x N x M pairs (minus the N diagonal
        pairs per image when excluded).
    """
    num_rows, num_cols = codes_a.shape[1], codes_b.shape[1]
    if exclude_diagonal and num_rows != num_cols:
        raise ValueError('exclude_diagonal needs as many rows as columns')
    step = chunk_size or num_rows
    use_checkpoint = (
        chunk_size is not None and step < num_rows and torch.is_grad_enabled()
    )
    total = codes_a.new_zeros(())
    for start in range(0, num_rows, step):
        stop = min(start + step, num_rows)
        args = (
            codes_a[:, start:stop],
            codes_b,
            labels_a[:, start:stop],
            labels_b,
            bias,
            r,
            start if exclude_diagonal else -1,
        )
        if use_checkpoint:
            block = checkpoint(_pair_block_sum, *args, use_reentrant=False)
        else:
            block = _pair_block_sum(*args)
        total = total + block.sum()
    num_pairs = codes_a.shape[0] * (
        num_rows * num_cols - (num_rows if exclude_diagonal else 0)
    )
    return total / max(num_pairs, 1)


@MODELS.register_module()
class DS2DLAffinityLoss(nn.Module):
    """DS²DL's affinity-structure loss L_p (Eq. 3 over intra- and
    cross-image pixel pairs, Sec. 3.3), holding the learnable bias b.

    The pairs of an image are all its N x N pixel pairs without the trivial
    (i, i) (``intra_pairs``); the cross-image pairs join every pixel of
    image b with every pixel of image pi(b), pi a random permutation of the
    batch without fixed points (``cross_pairs``; the paper's
    "near-derangement"). L_p = mean(intra) + mean(cross), so that an
    ablation removes one term (the paper's E[.] does not say how the two
    sets are weighted). With fewer than two images the cross term is
    skipped.

    Args:
        r (float): Mining strength of Eq. 3 (1 gives Eq. 1). Defaults to 2.1.
        bias_init (float): Start value of b (not given in the paper).
            Defaults to 0.
        intra_pairs (bool): Use intra-image pairs. Defaults to True.
        cross_pairs (bool): Use cross-image pairs. Defaults to True.
        chunk_size (int, optional): Rows per block of the all-pairs loss
            (see :func:`all_pairs_mining_loss`). Defaults to 256.
        loss_weight (float): Weight of L_p in Eq. 8. Defaults to 1.
    """

    def __init__(
        self,
        r: float = 2.1,
        bias_init: float = 0.0,
        intra_pairs: bool = True,
        cross_pairs: bool = True,
        chunk_size: Optional[int] = 256,
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if r <= 0:
            raise ValueError(f'r must be > 0, got {r}')
        self.r = r
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))
        self.intra_pairs = intra_pairs
        self.cross_pairs = cross_pairs
        self.chunk_size = chunk_size
        self.loss_weight = loss_weight

    def forward(
        self,
        codes: Tensor,
        label_features: Tensor,
        perm: Optional[Tensor] = None,
    ) -> Dict[str, Tensor]:
        """L_p of a batch.

        Args:
            codes (Tensor): (B, D, h, w) codes (normalised here).
            label_features (Tensor): (B, C, h, w) label features (detached
                here: y carries no gradient).
            perm (Tensor, optional): (B,) image permutation of the cross
                pairs; a random derangement when None.

        Returns:
            dict[str, Tensor]: ``loss_pair`` (weighted) and the unweighted
            ``pair_intra`` / ``pair_cross`` terms and ``pair_bias`` for the
            log.
        """
        batch = codes.shape[0]
        x = F.normalize(codes.flatten(2), dim=1).transpose(1, 2)
        labels = label_features.detach().flatten(2).transpose(1, 2)
        terms = {}
        if self.intra_pairs:
            terms['pair_intra'] = all_pairs_mining_loss(
                x,
                labels,
                x,
                labels,
                self.bias,
                self.r,
                exclude_diagonal=True,
                chunk_size=self.chunk_size,
            )
        if self.cross_pairs and batch >= 2:
            if perm is None:
                perm = random_derangement(batch, device=codes.device)
            terms['pair_cross'] = all_pairs_mining_loss(
                x,
                labels,
                x[perm],
                labels[perm],
                self.bias,
                self.r,
                chunk_size=self.chunk_size,
            )
        total = sum(terms.values(), codes.new_zeros(()))
        losses = {'loss_pair': self.loss_weight * total}
        losses.update({k: v.detach() for k, v in terms.items()})
        losses['pair_bias'] = self.bias.detach().clone()
        return losses
