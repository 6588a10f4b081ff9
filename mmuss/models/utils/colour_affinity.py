# Copyright (c) mmuss contributors. All rights reserved.
"""Colour affinity of IL2Vseg's low-level cue (Eqs. 9-12).

IL2Vseg (Qing et al.), section "Colour Affinity for Feature
Boosting": a Gaussian affinity ``A`` between the colours of all pixel pairs
of one downsampled image (Eqs. 9-11) spreads the fuzzy clustering
probabilities ``P`` (Eq. 8) over similarly coloured pixels,
``F_l = A · P`` (Eq. 12).

Memory: ``A`` is N x N per image (N = h·w: 784 at 224 px, 1600 at 320 px on
a stride-8 grid). :func:`low_level_cue` never builds it for more than one
image at a time, and with ``chunk_size`` only ``chunk_size`` rows of it.

Scale (our choice; the paper is silent): literal ``A · P`` has row sums up
to N, while IL2Vseg's ``F_seg`` it is fused with (Eq. 13) is a cosine
similarity in [-1, 1]. By default each row of ``A`` is normalised to sum
to 1 (``D⁻¹ A P``, ``normalise='row'``), so each pixel's cue is the
affinity-weighted mean of the cluster probabilities: in [0, 1], summing to
1 over clusters and independent of the image size. ``normalise='none'``
keeps the literal product.
"""

from typing import Optional

import torch
from torch import Tensor

AFFINITY_NORMALISATIONS = ('row', 'none')


def squared_colour_distances(pixels: Tensor, others: Tensor) -> Tensor:
    """Squared colour distances ``d_jk²``, IL2Vseg Eq. 9 squared.

    Explicit differences (exact zeros on the diagonal, smooth gradients),
    which is what Eq. 10 uses.

    Args:
        pixels (Tensor): Colours (N, C).
        others (Tensor): Colours (M, C).

    Returns:
        Tensor: ``d²`` (N, M).
    """
    return (pixels[:, None, :] - others[None, :, :]).pow(2).sum(dim=-1)


def colour_distances(pixels: Tensor, others: Tensor) -> Tensor:
    """Euclidean colour distances ``d_jk = ||x_j - x_k||_2``, IL2Vseg Eq. 9.

    Args:
        pixels (Tensor): Colours (N, C).
        others (Tensor): Colours (M, C).

    Returns:
        Tensor: ``d`` (N, M).
    """
    return squared_colour_distances(pixels, others).sqrt()


def gaussian_affinity(squared_distances: Tensor, sigma: float) -> Tensor:
    """Colour affinity ``a_jk = exp(-d_jk² / 2σ²)``, IL2Vseg Eq. 10.

    Args:
        squared_distances (Tensor): ``d²`` of any shape.
        sigma (float): Standard deviation σ > 0 of the Gaussian, in the
            units of the colours.

    Returns:
        Tensor: ``a``, the same shape, in (0, 1].
    """
    if sigma <= 0:
        raise ValueError(f'sigma must be positive, got {sigma}')
    return torch.exp(-squared_distances / (2.0 * sigma * sigma))


def colour_affinity_matrix(image: Tensor, sigma: float) -> Tensor:
    """Colour affinity matrix ``A`` of one image, IL2Vseg Eq. 11.

    ``A[j, k] = a_jk`` (Eq. 10) over all pixel pairs, pixels in row-major
    order of the (h, w) grid.

    Args:
        image (Tensor): One downsampled image ``x`` (C, h, w).
        sigma (float): σ of Eq. 10.

    Returns:
        Tensor: ``A`` (N, N), N = h·w, symmetric with a unit diagonal.
    """
    pixels = image.flatten(1).T
    return gaussian_affinity(squared_colour_distances(pixels, pixels), sigma)


def normalise_affinity_rows(
    affinity: Tensor, normalise: str = 'row', eps: float = 1e-12
) -> Tensor:
    """Rows of ``A`` rescaled as :func:`low_level_cue` uses them.

    ``'row'``: ``D⁻¹ A`` (each row sums to 1); ``'none'``: ``A`` unchanged.
    Rows are independent, so a block of rows may be normalised alone.
    """
    if normalise == 'row':
        return affinity / affinity.sum(dim=-1, keepdim=True).clamp_min(eps)
    if normalise == 'none':
        return affinity
    raise ValueError(
        f'normalise must be one of {AFFINITY_NORMALISATIONS}, '
        f'got {normalise!r}'
    )


def low_level_cue(
    x: Tensor,
    probs: Tensor,
    sigma: float = 0.1,
    normalise: str = 'row',
    chunk_size: Optional[int] = None,
) -> Tensor:
    """Low-level cue ``F_l = A · P`` of IL2Vseg, Eq. 12, image by image.

    For each image, ``F_l[:, j] = Σ_k A[j, k] P[:, k]`` with ``A`` of
    Eq. 11 (optionally row-normalised, see the module docstring). The
    affinity of only one image (or ``chunk_size`` of its rows) exists at a
    time, with its C-channel colour differences (C x that size) while it is
    built. Differentiable in ``x`` and ``probs``.

    Args:
        x (Tensor): Downsampled images (B, C, h, w), the colours of Eq. 9.
        probs (Tensor): Cluster probabilities ``P`` (B, K, h, w) (Eq. 8).
        sigma (float): σ of Eq. 10 in the units of ``x``; the paper gives
            none; 0.1 is our choice, meant for RGB in [0, 1] (a
            mean/std-normalised image needs σ scaled by its std).
            Defaults to 0.1.
        normalise (str): ``'row'`` (``D⁻¹ A P``, our default) or ``'none'``
            (literal ``A P``). Defaults to ``'row'``.
        chunk_size (int, optional): Rows of ``A`` built at once; None for
            all N. Defaults to None.

    Returns:
        Tensor: ``F_l`` (B, K, h, w).
    """
    if x.shape[0] != probs.shape[0] or x.shape[2:] != probs.shape[2:]:
        raise ValueError(
            f'images {tuple(x.shape)} and probabilities '
            f'{tuple(probs.shape)} differ in batch or grid'
        )
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    normalise_affinity_rows(probs.new_ones(1, 1), normalise)  # check early
    cues = [
        _image_cue(image, image_probs, sigma, normalise, chunk_size)
        for image, image_probs in zip(x, probs)
    ]
    return torch.stack(cues)


def _image_cue(
    image: Tensor,
    probs: Tensor,
    sigma: float,
    normalise: str,
    chunk_size: Optional[int],
) -> Tensor:
    """``F_l`` (K, h, w) of one image (C, h, w) and its ``P`` (K, h, w)."""
    pixels = image.flatten(1).T  # (N, C)
    flat_probs = probs.flatten(1).T  # (N, K)
    step = pixels.shape[0] if chunk_size is None else chunk_size
    rows = []
    for start in range(0, pixels.shape[0], step):
        block = gaussian_affinity(
            squared_colour_distances(pixels[start : start + step], pixels),
            sigma,
        )
        rows.append(normalise_affinity_rows(block, normalise) @ flat_probs)
    return torch.cat(rows).T.reshape(probs.shape)
