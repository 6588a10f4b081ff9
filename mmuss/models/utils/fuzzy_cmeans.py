# Copyright (c) mmuss contributors. All rights reserved.
"""Spatially constrained fuzzy c-means of IL2Vseg's low-level cue f_γ.

IL2Vseg (Qing et al.), section "Spatially Constrained Fuzzy
Clustering", Eqs. 3-8: the input image is bilinearly downsampled to the
feature grid, then clustered by fuzzy c-means (FCM) whose memberships are
reweighted by a 3x3 spatial term (Chuang et al.'s sFCM with p = q = 1).
Each equation is one function here, batched in torch over images.

Tensors follow one layout: pixels ``x`` are ``(B, C, h, w)``, centres ``v``
are ``(B, K, C)``, memberships ``U``, ``S``, ``U'`` and ``P`` are
``(B, K, h, w)`` (cluster channels, like a head's scores).

Reading notes (the text is silent or ambiguous; our choices):

* Eq. 4 prints the exponent ``1/(m-1)`` on ``1/d_ij``; standard FCM (the
  minimiser of Eq. 3) has ``2/(m-1)``. Both are reachable through
  ``exponent='printed'|'standard'``; the printed one is the default.
* Eq. 5's 3x3 sum runs over the pixels inside the image (zero padding at
  the border), the centre pixel included.
* Iteration order (the text gives the equations, not the loop): from the
  centres, Eq. 4 -> Eq. 5 -> Eq. 6 -> Eq. 7, a fixed number of times; the
  output is Eq. 8 of the last ``U'``.
* Initialisation: FCM clusters of one image's colours have no order of
  their own, so IL2Vseg's Eq. 13 (adding cue channel k to head channel k)
  needs an alignment. :func:`spatial_fuzzy_cmeans` therefore starts from
  given memberships (e.g. the head's ``softmax(F_seg / T)``, detached) or
  given centres: the first centres are then the colour means of the head's
  clusters (Eq. 7 on ``U⁰``), and channel k of the cue refines cluster k of
  the head.
"""

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

MEMBERSHIP_EXPONENTS = ('printed', 'standard')


def downsample_image(image: Tensor, size: Tuple[int, int]) -> Tensor:
    """Bilinearly downsampled image ``x`` of IL2Vseg's low-level cue.

    IL2Vseg Eq. 1 and the first line of "Spatially Constrained Fuzzy
    Clustering": ``x = bilinear(I_b) ∈ R^{C_3 x H/8 x W/8}``, the image
    resized to the feature grid. ``align_corners=False`` (mmseg's resize).

    Args:
        image (Tensor): Images (B, C_3, H, W).
        size (tuple[int, int]): Feature grid (h, w).

    Returns:
        Tensor: ``x`` (B, C_3, h, w).
    """
    return F.interpolate(
        image, size=tuple(size), mode='bilinear', align_corners=False
    )


def squared_centre_distances(x: Tensor, centres: Tensor) -> Tensor:
    """Squared distances ``d_ij² = ||x_i - v_j||²`` of IL2Vseg Eq. 3.

    Args:
        x (Tensor): Pixels (B, C, h, w).
        centres (Tensor): Centres (B, K, C).

    Returns:
        Tensor: ``d²`` (B, K, h, w).
    """
    diff = x.unsqueeze(1) - centres[:, :, :, None, None]
    return diff.pow(2).sum(dim=2)


def fcm_objective(
    x: Tensor, centres: Tensor, memberships: Tensor, m: float = 2.0
) -> Tensor:
    """FCM objective ``J(U, V) = Σ_i Σ_j U_ij^m d_ij²``, IL2Vseg Eq. 3.

    Args:
        x (Tensor): Pixels (B, C, h, w).
        centres (Tensor): Centres (B, K, C).
        memberships (Tensor): Memberships (B, K, h, w).
        m (float): Fuzzifier m > 1. Defaults to 2.

    Returns:
        Tensor: ``J`` per image (B,).
    """
    d2 = squared_centre_distances(x, centres)
    return (memberships.pow(m) * d2).flatten(1).sum(dim=1)


def membership_power(m: float, exponent: str = 'printed') -> float:
    """Power p of ``(1/d_ij)^p`` in IL2Vseg Eq. 4.

    ``'printed'``: ``1/(m-1)`` as the paper prints it; ``'standard'``:
    ``2/(m-1)``, the minimiser of Eq. 3 (Bezdek's FCM).
    """
    if m <= 1:
        raise ValueError(f'the fuzzifier m must exceed 1, got {m}')
    if exponent == 'printed':
        return 1.0 / (m - 1.0)
    if exponent == 'standard':
        return 2.0 / (m - 1.0)
    raise ValueError(
        f'exponent must be one of {MEMBERSHIP_EXPONENTS}, got {exponent!r}'
    )


def fcm_memberships(
    x: Tensor,
    centres: Tensor,
    m: float = 2.0,
    exponent: str = 'printed',
    eps: float = 1e-12,
) -> Tensor:
    """FCM memberships ``U``, IL2Vseg Eq. 4.

    ``U_ij = (1/d_ij)^p / Σ_k (1/d_ik)^p`` with ``p`` from
    :func:`membership_power`. Computed as a softmax over clusters of
    ``-(p/2) log(d_ij² + eps)``, which is the same ratio without overflow
    when a pixel sits on a centre (it then gets membership ~1 there).

    Args:
        x (Tensor): Pixels (B, C, h, w).
        centres (Tensor): Centres (B, K, C).
        m (float): Fuzzifier m > 1. Defaults to 2.
        exponent (str): ``'printed'`` (``1/(m-1)``) or ``'standard'``
            (``2/(m-1)``). Defaults to ``'printed'``.
        eps (float): Floor added to ``d²``. Defaults to 1e-12.

    Returns:
        Tensor: ``U`` (B, K, h, w), summing to 1 over K.
    """
    power = membership_power(m, exponent)
    d2 = squared_centre_distances(x, centres)
    return torch.softmax(-0.5 * power * torch.log(d2 + eps), dim=1)


def spatial_information(memberships: Tensor, window: int = 3) -> Tensor:
    """Spatial information ``S``, IL2Vseg Eq. 5.

    ``S_ij = Σ_{k,l=-1..1} U_{i+k, j+l}``: each cluster's membership map
    summed over the window around every pixel, the pixel included; pixels
    outside the image count as 0 (zero padding).

    Args:
        memberships (Tensor): ``U`` (B, K, h, w).
        window (int): Odd window side; 3 in the paper. Defaults to 3.

    Returns:
        Tensor: ``S`` (B, K, h, w).
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f'window must be a positive odd int, got {window}')
    box_mean = F.avg_pool2d(
        memberships,
        kernel_size=window,
        stride=1,
        padding=window // 2,
        count_include_pad=True,
    )
    return box_mean * float(window * window)


def spatial_memberships(
    memberships: Tensor, spatial: Tensor, eps: float = 1e-12
) -> Tensor:
    """Spatially modified memberships ``U'``, IL2Vseg Eq. 6.

    ``U'_ij = U_ij S_ij / Σ_k U_ik S_ik``.

    Args:
        memberships (Tensor): ``U`` (B, K, h, w).
        spatial (Tensor): ``S`` (B, K, h, w).
        eps (float): Floor of the denominator. Defaults to 1e-12.

    Returns:
        Tensor: ``U'`` (B, K, h, w), summing to 1 over K.
    """
    weighted = memberships * spatial
    return weighted / weighted.sum(dim=1, keepdim=True).clamp_min(eps)


def fcm_centres(
    x: Tensor, memberships: Tensor, m: float = 2.0, eps: float = 1e-12
) -> Tensor:
    """Cluster centres ``v``, IL2Vseg Eq. 7.

    ``v_j = Σ_i (U'_ij)^m x_i / Σ_i (U'_ij)^m`` over the pixels of each
    image.

    Args:
        x (Tensor): Pixels (B, C, h, w).
        memberships (Tensor): ``U'`` (or any memberships) (B, K, h, w).
        m (float): Fuzzifier. Defaults to 2.
        eps (float): Floor of the denominator (an empty cluster keeps a
            zero centre rather than NaN). Defaults to 1e-12.

    Returns:
        Tensor: ``v`` (B, K, C).
    """
    weights = memberships.pow(m).flatten(2)  # (B, K, N)
    pixels = x.flatten(2)  # (B, C, N)
    numerator = torch.einsum('bkn,bcn->bkc', weights, pixels)
    return numerator / weights.sum(dim=2, keepdim=True).clamp_min(eps)


def cluster_probabilities(memberships: Tensor, eps: float = 1e-12) -> Tensor:
    """Clustering probabilities ``P``, IL2Vseg Eq. 8.

    ``P_ij = U'_ij / Σ_k U'_ik``; a no-op up to rounding, since Eq. 6
    already normalises ``U'``, kept because the paper states it.

    Args:
        memberships (Tensor): ``U'`` (B, K, h, w).
        eps (float): Floor of the denominator. Defaults to 1e-12.

    Returns:
        Tensor: ``P`` (B, K, h, w).
    """
    return memberships / memberships.sum(dim=1, keepdim=True).clamp_min(eps)


def spatial_fuzzy_cmeans(
    x: Tensor,
    init_memberships: Optional[Tensor] = None,
    init_centres: Optional[Tensor] = None,
    m: float = 2.0,
    num_iters: int = 10,
    exponent: str = 'printed',
    spatial: bool = True,
    window: int = 3,
    eps: float = 1e-12,
) -> Tuple[Tensor, Tensor]:
    """Spatially constrained fuzzy c-means of IL2Vseg (Eqs. 4-8), batched.

    Starting from the centres (given, or Eq. 7 on ``init_memberships``),
    each of ``num_iters`` iterations computes ``U`` (Eq. 4), ``S`` (Eq. 5),
    ``U'`` (Eq. 6) and new centres (Eq. 7); the result is ``P`` (Eq. 8) of
    the last ``U'``. With ``spatial=False`` Eqs. 5-6 are skipped
    (``U' = U``), which with ``exponent='standard'`` is plain FCM.

    Cluster k of the output is cluster k of the initialisation: pass the
    head's probabilities (detached) as ``init_memberships`` to make cue
    channel k refine head cluster k. The loop is differentiable, but
    IL2Vseg uses it as a fixed cue (call it under ``torch.no_grad``).

    Args:
        x (Tensor): Pixels (B, C, h, w), e.g. :func:`downsample_image`.
        init_memberships (Tensor, optional): ``U⁰`` (B, K, h, w); the first
            centres are Eq. 7 on it. Exactly one of this and
            ``init_centres`` must be given.
        init_centres (Tensor, optional): First centres (B, K, C).
        m (float): Fuzzifier m > 1; 2 is our choice (the paper gives
            none). Defaults to 2.
        num_iters (int): Fixed number of iterations, >= 1; 10 is our
            choice (the paper gives none). Defaults to 10.
        exponent (str): Eq. 4's power, ``'printed'`` or ``'standard'``.
            Defaults to ``'printed'``.
        spatial (bool): Apply the spatial term (Eqs. 5-6). Defaults to True.
        window (int): Window of Eq. 5. Defaults to 3.
        eps (float): Numerical floor. Defaults to 1e-12.

    Returns:
        tuple[Tensor, Tensor]: ``P`` (B, K, h, w) and the last centres
        (B, K, C), those ``P`` was computed from.
    """
    if (init_memberships is None) == (init_centres is None):
        raise ValueError(
            'give exactly one of init_memberships and init_centres'
        )
    if num_iters < 1:
        raise ValueError(f'num_iters must be >= 1, got {num_iters}')
    if init_centres is None:
        centres = fcm_centres(x, init_memberships, m, eps)
    else:
        centres = init_centres
    for _ in range(num_iters):
        used_centres = centres
        memberships = fcm_memberships(x, centres, m, exponent, eps)
        if spatial:
            memberships = spatial_memberships(
                memberships, spatial_information(memberships, window), eps
            )
        centres = fcm_centres(x, memberships, m, eps)
    return cluster_probabilities(memberships, eps), used_centres
