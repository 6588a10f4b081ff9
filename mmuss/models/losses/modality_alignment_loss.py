# Copyright (c) mmuss contributors. All rights reserved.
"""Feature-alignment (distillation) baselines of UniM2, supplement Sec. 2.

``L_distill = L(f_rgb, Proj(f_X))`` (Eq. 1) instantiated as CORAL (Eq. 2),
MMD (Eq. 3) or patch-wise cosine (Eq. 4): the supplement's Table 2 rows
that UniM2's CMCS + CMH are compared against.
"""

from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

ALIGNMENT_MODES = ('coral', 'mmd', 'cosine')


def flatten_locations(feats: Tensor) -> Tensor:
    """(B, C, h, w) maps -> (B*h*w, C) location vectors."""
    if feats.dim() != 4:
        raise ValueError(
            f'expected (B, C, h, w) feature maps, got {tuple(feats.shape)}'
        )
    return feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])


def feature_covariance(vectors: Tensor) -> Tensor:
    """Unbiased covariance (C, C) of (N, C) vectors (Deep CORAL's C_S)."""
    if vectors.shape[0] < 2:
        raise ValueError(
            f'a covariance needs at least 2 vectors, got {vectors.shape[0]}'
        )
    centred = vectors - vectors.mean(0, keepdim=True)
    return centred.T @ centred / (vectors.shape[0] - 1)


def coral_loss(rgb: Tensor, projected: Tensor) -> Tensor:
    """CORAL alignment, UniM2 supplement Eq. 2.

    ``L_CORAL = ||C_rgb - C_X||_F^2 / (4 d^2)`` with C the (unbiased)
    covariance of the d-dimensional location vectors of each map, pooled
    over the batch (Sun and Saenko, Deep CORAL).

    Args:
        rgb (Tensor): f_rgb, (B, d, h, w).
        projected (Tensor): Proj(f_X), (B', d, h', w').

    Returns:
        Tensor: Scalar loss.
    """
    source = feature_covariance(flatten_locations(rgb))
    target = feature_covariance(flatten_locations(projected))
    dims = rgb.shape[1]
    return (source - target).pow(2).sum() / (4 * dims**2)


def gaussian_kernel_sum(
    first: Tensor, second: Tensor, bandwidths: Sequence[float]
) -> Tensor:
    """Multi-bandwidth Gaussian kernel ``k(x, y) = sum_s exp(-||x - y||^2 /
    (2 s^2))`` between (N, d) and (M, d) vectors -> (N, M)."""
    distances = torch.cdist(first, second).pow(2)
    return sum(torch.exp(-distances / (2 * s**2)) for s in bandwidths)


def mmd_bandwidths(
    pooled: Tensor, multipliers: Sequence[float]
) -> Sequence[float]:
    """Kernel bandwidths s = m * sqrt(mean squared pairwise distance) of the
    pooled vectors (no gradient), one per multiplier (DAN's scheme)."""
    with torch.no_grad():
        scale = torch.cdist(pooled, pooled).pow(2).mean().clamp_min(1e-12)
    return [float(m * scale.sqrt()) for m in multipliers]


def mmd_loss(
    rgb: Tensor,
    projected: Tensor,
    multipliers: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
    max_samples: Optional[int] = 256,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Maximum mean discrepancy, UniM2 supplement Eq. 3.

    ``|| mean_i phi(f_rgb,i) - mean_i phi(Proj(f_X)_i) ||^2`` in the RKHS
    of a kernel, expanded with the kernel trick into ``mean k(r, r') +
    mean k(x, x') - 2 mean k(r, x)`` (the biased V-statistic, all pairs
    including i = i'). The supplement leaves phi open; [choice] a sum of
    Gaussian kernels whose bandwidths are ``multipliers`` times the root
    mean squared pairwise distance of the pooled vectors (a multi-kernel
    MMD as in DAN, Long et al. 2015, the supplement's reference).

    Args:
        rgb (Tensor): f_rgb, (B, d, h, w).
        projected (Tensor): Proj(f_X), (B', d, h', w').
        multipliers (Sequence[float]): Bandwidth multipliers.
        max_samples (int, optional): Locations drawn (without
            replacement) from each map to bound the N x N kernel; None uses
            all. Defaults to 256.
        generator (torch.Generator, optional): For the draw.

    Returns:
        Tensor: Scalar loss (>= 0 up to rounding).
    """
    first = subsample(flatten_locations(rgb), max_samples, generator)
    second = subsample(flatten_locations(projected), max_samples, generator)
    bandwidths = mmd_bandwidths(torch.cat([first, second]), multipliers)
    return (
        gaussian_kernel_sum(first, first, bandwidths).mean()
        + gaussian_kernel_sum(second, second, bandwidths).mean()
        - 2 * gaussian_kernel_sum(first, second, bandwidths).mean()
    )


def subsample(
    vectors: Tensor,
    max_samples: Optional[int],
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """At most ``max_samples`` rows of ``vectors``, drawn uniformly."""
    if max_samples is None or vectors.shape[0] <= max_samples:
        return vectors
    index = torch.randperm(vectors.shape[0], generator=generator)
    return vectors[index[:max_samples].to(vectors.device)]


def patchwise_cosine_loss(rgb: Tensor, projected: Tensor) -> Tensor:
    """Patch-wise cosine alignment, UniM2 supplement Eq. 4.

    ``L_cos = 1 - f_rgb . Proj(f_X) / (||f_rgb|| ||Proj(f_X)||)`` at each
    location of aligned maps, averaged over the locations.

    Args:
        rgb (Tensor): f_rgb, (B, d, h, w).
        projected (Tensor): Proj(f_X), same shape.

    Returns:
        Tensor: Scalar loss in [0, 2].
    """
    if rgb.shape != projected.shape:
        raise ValueError(
            'patch-wise cosine alignment needs aligned maps of one shape, '
            f'got {tuple(rgb.shape)} and {tuple(projected.shape)}'
        )
    return (1 - F.cosine_similarity(rgb, projected, dim=1, eps=1e-8)).mean()


@MODELS.register_module()
class ModalityAlignmentLoss(nn.Module):
    """A distillation baseline of UniM2: ``L(f_rgb, Proj(f_X))`` (supplement
    Eq. 1) summed over the auxiliary modalities X.

    ``mode``: ``'coral'`` (:func:`coral_loss`, Eq. 2), ``'mmd'``
    (:func:`mmd_loss`, Eq. 3) or ``'cosine'`` (:func:`patchwise_cosine_loss`,
    Eq. 4). The supplement gives neither Proj nor the loss weight;
    :class:`UniM2Head` uses each modality's MSN as Proj and the frozen RGB
    features as f_rgb (a fixed target), and ``loss_weight`` is 1 by
    default.

    Args:
        mode (str): One of ``ALIGNMENT_MODES``.
        loss_weight (float): Multiplies the sum. Defaults to 1.
        mmd_multipliers (Sequence[float]): See :func:`mmd_loss`.
        mmd_max_samples (int, optional): See :func:`mmd_loss`.
        loss_name (str): Key of the loss. Defaults to ``'loss_align'``.
    """

    def __init__(
        self,
        mode: str = 'cosine',
        loss_weight: float = 1.0,
        mmd_multipliers: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
        mmd_max_samples: Optional[int] = 256,
        loss_name: str = 'loss_align',
    ) -> None:
        super().__init__()
        if mode not in ALIGNMENT_MODES:
            raise ValueError(
                f'mode must be one of {ALIGNMENT_MODES}, got {mode!r}'
            )
        self.mode = mode
        self.loss_weight = loss_weight
        self.mmd_multipliers = tuple(mmd_multipliers)
        self.mmd_max_samples = mmd_max_samples
        self.loss_name = loss_name

    def pair_loss(self, rgb: Tensor, projected: Tensor) -> Tensor:
        """The chosen Eq. 2, 3 or 4 for one auxiliary modality."""
        if self.mode == 'coral':
            return coral_loss(rgb, projected)
        if self.mode == 'mmd':
            return mmd_loss(
                rgb, projected, self.mmd_multipliers, self.mmd_max_samples
            )
        return patchwise_cosine_loss(rgb, projected)

    def forward(
        self, rgb: Tensor, projected: Dict[str, Tensor]
    ) -> Dict[str, Tensor]:
        """``loss_name``: the weighted sum over modalities; ``align_<X>``:
        each modality's unweighted term (detached)."""
        if not projected:
            raise ValueError('alignment needs at least one auxiliary modality')
        terms = {
            name: self.pair_loss(rgb, feats)
            for name, feats in projected.items()
        }
        losses = {self.loss_name: self.loss_weight * sum(terms.values())}
        losses.update(
            {f'align_{name}': value.detach() for name, value in terms.items()}
        )
        return losses
