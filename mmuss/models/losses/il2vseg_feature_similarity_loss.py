# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg's feature-similarity loss and regulariser (Eq. 14) and Eq. 15.

IL2Vseg (Qing et al.), "Feature Similarity Loss":
``L_fs, L_reg = f(F^c, F^f, I)`` (Eq. 14) with no formula; the text says
"the feature similarity matrix captures feature similarity, while the pixel
similarity matrix represents spatial relationships. By integrating these
matrices with the Gram matrix projection, we compute L_fs and the
regularization term L_reg". The total (Eq. 15) is
``L = β·reg + γ·L_fs + L_smo + L_corr`` with β = 0.05 and γ = 0.1
("Implementation Details").

Two readings, behind ``fs_mode``:

* ``'gram'`` (default, ours, from the sentence above), per image, with
  ``N = h·w`` grid pixels:

  - feature similarity ``W_f[i, j] = relu(cos(F^c_i, F^c_j))``, detached
    (:func:`feature_similarity_matrix`);
  - pixel similarity ``W_p[i, j] = exp(-||p_i - p_j||² / 2σ_xy²) ·
    exp(-||x_i - x_j||² / 2σ_c²)`` of grid positions p (in grid cells) and
    the downsampled image colours x (:func:`pixel_similarity_matrix`);
  - the Gram matrix ``G = F̂ F̂ᵀ`` of the row-L2-normalised fused cue
    ``F̂`` (:func:`fused_gram_matrix`);
  - ``L_fs = Σ_ij W_p[i, j] (G[i, j] - W_f[i, j])² / Σ_ij W_p[i, j]``
    (:func:`gram_feature_similarity_loss`);
  - ``L_reg = ||P̄ᵀP̄ / N - I / K||_F²`` with ``P̄`` the fused cue as
    cluster probabilities (:func:`fused_probabilities`: ``F^f`` itself for
    the probability fusion, ``softmax(F^f / T)`` for raw scores), against
    collapse onto few clusters (:func:`cluster_balance_regulariser`).

* ``'kim2020'`` (the wording "combining feature similarity and spatial
  continuity" is that of Kim, Kanezaki and Tanaka, TIP 2020):
  ``L_fs = CE(P̄, argmax F^f)`` (:func:`kim_feature_similarity_loss`) and
  ``L_reg`` the mean absolute difference of vertically and horizontally
  adjacent ``F^f`` (:func:`kim_continuity_regulariser`).
"""

from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

FS_MODES = ('gram', 'kim2020')


def il2vseg_total_loss(
    reg: Tensor,
    fs: Tensor,
    smo: Tensor,
    corr: Optional[Tensor] = None,
    beta: float = 0.05,
    gamma: float = 0.1,
) -> Tensor:
    """Total loss ``β·reg + γ·L_fs + L_smo + L_corr``, IL2Vseg Eq. 15.

    Args:
        reg (Tensor): ``L_reg`` of Eq. 14.
        fs (Tensor): ``L_fs`` of Eq. 14.
        smo (Tensor): SmooSeg's energy ``L_smo``.
        corr (Tensor, optional): STEGO's ``L_corr``; None when off.
        beta (float): β; 0.05 in the paper. Defaults to 0.05.
        gamma (float): γ; 0.1 in the paper. Defaults to 0.1.

    Returns:
        Tensor: The scalar total.
    """
    total = beta * reg + gamma * fs + smo
    return total if corr is None else total + corr


def feature_similarity_matrix(codes: Tensor) -> Tensor:
    """Feature similarity ``W_f = relu(cos(F^c_i, F^c_j))``, IL2Vseg Eq. 14
    (our ``'gram'`` reading), detached.

    Args:
        codes (Tensor): Codes ``F^c`` of one image (C, h, w).

    Returns:
        Tensor: ``W_f`` (N, N), N = h·w, row-major pixels.
    """
    flat = F.normalize(codes.detach().flatten(1).T, dim=1)
    return (flat @ flat.T).clamp_min(0.0)


def grid_positions(height: int, width: int, device=None) -> Tensor:
    """Row-major (row, column) positions of an (h, w) grid, (N, 2), in
    grid cells."""
    rows, cols = torch.meshgrid(
        torch.arange(height, device=device, dtype=torch.float32),
        torch.arange(width, device=device, dtype=torch.float32),
        indexing='ij',
    )
    return torch.stack([rows.flatten(), cols.flatten()], dim=1)


def pixel_similarity_matrix(
    colours: Tensor, sigma_xy: float = 3.0, sigma_colour: float = 0.1
) -> Tensor:
    """Pixel similarity ``W_p``, IL2Vseg Eq. 14 (our ``'gram'`` reading).

    ``W_p[i, j] = exp(-||p_i - p_j||² / 2σ_xy²) ·
    exp(-||x_i - x_j||² / 2σ_c²)``: a bilateral kernel of grid positions p
    (grid cells) and colours x.

    Args:
        colours (Tensor): Downsampled image of one image (C, h, w).
        sigma_xy (float): Spatial σ in grid cells. Defaults to 3.
        sigma_colour (float): Colour σ in the units of ``colours``.
            Defaults to 0.1.

    Returns:
        Tensor: ``W_p`` (N, N), in (0, 1], detached.
    """
    colours = colours.detach()
    positions = grid_positions(*colours.shape[1:], device=colours.device)
    pixels = colours.flatten(1).T
    spatial = torch.cdist(positions, positions).pow(2) / (2 * sigma_xy**2)
    colour = (pixels[:, None] - pixels[None]).pow(2).sum(-1)
    return torch.exp(
        -spatial.to(pixels.dtype) - colour / (2 * sigma_colour**2)
    )


def fused_gram_matrix(fused: Tensor) -> Tensor:
    """Gram matrix ``G = F̂ F̂ᵀ`` of the fused cue, IL2Vseg Eq. 14 (our
    ``'gram'`` reading); ``F̂`` is ``F^f`` L2-normalised per pixel.

    Args:
        fused (Tensor): ``F^f`` of one image (K, h, w).

    Returns:
        Tensor: ``G`` (N, N).
    """
    flat = F.normalize(fused.flatten(1).T, dim=1)
    return flat @ flat.T


def gram_feature_similarity_loss(
    fused: Tensor,
    codes: Tensor,
    colours: Tensor,
    sigma_xy: float = 3.0,
    sigma_colour: float = 0.1,
) -> Tensor:
    """``L_fs``, IL2Vseg Eq. 14 in our ``'gram'`` reading.

    Per image, ``Σ_ij W_p (G - W_f)² / Σ_ij W_p`` (see the module
    docstring), averaged over the batch. Only ``fused`` gets gradients.

    Args:
        fused (Tensor): ``F^f`` (B, K, h, w).
        codes (Tensor): ``F^c`` (B, C, h, w) on the same grid.
        colours (Tensor): Downsampled images (B, 3, h, w).
        sigma_xy (float): Spatial σ of ``W_p`` in grid cells.
        sigma_colour (float): Colour σ of ``W_p``.

    Returns:
        Tensor: Scalar loss.
    """
    losses = []
    for image_fused, image_codes, image_colours in zip(fused, codes, colours):
        weights = pixel_similarity_matrix(
            image_colours, sigma_xy, sigma_colour
        )
        target = feature_similarity_matrix(image_codes)
        error = (fused_gram_matrix(image_fused) - target).pow(2)
        losses.append((weights * error).sum() / weights.sum())
    return torch.stack(losses).mean()


def fused_probabilities(
    fused: Tensor, temperature: Optional[float] = None, eps: float = 1e-12
) -> Tensor:
    """``P̄``, the fused cue as cluster probabilities (B, K, h, w).

    Args:
        fused (Tensor): ``F^f`` (B, K, h, w).
        temperature (float, optional): None when ``F^f`` is already a
            distribution over clusters (``fuse='prob'``: a mix of two), which
            is then only renormalised; else ``softmax(F^f / T)`` (scores of
            ``fuse='raw'``). Defaults to None.
        eps (float): Floor of the renormalising sum.

    Returns:
        Tensor: ``P̄`` (B, K, h, w).
    """
    if temperature is None:
        return fused / fused.sum(dim=1, keepdim=True).clamp_min(eps)
    return F.softmax(fused / temperature, dim=1)


def cluster_balance_regulariser(
    fused: Tensor, temperature: Optional[float] = None
) -> Tensor:
    """``L_reg = ||P̄ᵀP̄ / N - I / K||_F²``, IL2Vseg Eq. 14 in our
    ``'gram'`` reading.

    ``P̄`` of :func:`fused_probabilities`, N = B·h·w pixels: zero when the
    soft assignments are one-hot and the K clusters equally used.

    Args:
        fused (Tensor): ``F^f`` (B, K, h, w).
        temperature (float, optional): See :func:`fused_probabilities`.
            Defaults to None.

    Returns:
        Tensor: Scalar regulariser.
    """
    num_clusters = fused.shape[1]
    probs = fused_probabilities(fused, temperature)
    flat = probs.permute(0, 2, 3, 1).reshape(-1, num_clusters)
    gram = flat.T @ flat / flat.shape[0]
    eye = torch.eye(num_clusters, device=fused.device, dtype=fused.dtype)
    return (gram - eye / num_clusters).pow(2).sum()


def kim_feature_similarity_loss(
    fused: Tensor, temperature: Optional[float] = None, eps: float = 1e-12
) -> Tensor:
    """``L_fs = CE(P̄, argmax F^f)``, IL2Vseg Eq. 14 in the ``'kim2020'``
    reading (Kim et al., TIP 2020, feature-similarity loss).

    Args:
        fused (Tensor): ``F^f`` (B, K, h, w).
        temperature (float, optional): See :func:`fused_probabilities`;
            1 gives Kim et al.'s cross-entropy on ``F^f`` as logits.
            Defaults to None.
        eps (float): Floor of the probabilities before the log.

    Returns:
        Tensor: Scalar loss.
    """
    probs = fused_probabilities(fused, temperature)
    return F.nll_loss(probs.clamp_min(eps).log(), fused.detach().argmax(dim=1))


def kim_continuity_regulariser(fused: Tensor) -> Tensor:
    """``L_reg``, mean |difference| of vertically plus horizontally
    adjacent ``F^f``, IL2Vseg Eq. 14 in the ``'kim2020'`` reading (Kim et
    al., TIP 2020, spatial-continuity loss).

    Args:
        fused (Tensor): ``F^f`` (B, K, h, w).

    Returns:
        Tensor: Scalar regulariser.
    """
    vertical = (fused[:, :, 1:] - fused[:, :, :-1]).abs().mean()
    horizontal = (fused[:, :, :, 1:] - fused[:, :, :, :-1]).abs().mean()
    return vertical + horizontal


@MODELS.register_module()
class IL2VsegFeatureSimilarityLoss(nn.Module):
    """IL2Vseg's Eq. 14 terms, weighted as in Eq. 15.

    IL2Vseg (Qing et al.): returns ``loss_fs`` (γ·L_fs) and
    ``loss_reg`` (β·L_reg); with SmooSeg's ``L_smo`` and STEGO's ``L_corr``
    as further ``loss_*`` entries, their sum (mmengine's) is Eq. 15. The
    readings of Eq. 14 are in the module docstring.

    Args:
        fs_mode (str): ``'gram'`` (default) or ``'kim2020'``.
        loss_weight_fs (float): γ. Defaults to 0.1 (the paper's).
        loss_weight_reg (float): β. Defaults to 0.05 (the paper's).
        sigma_xy (float): ``'gram'``: spatial σ of ``W_p`` in grid cells
            (ours; the paper gives none). Defaults to 3.
        sigma_colour (float): ``'gram'``: colour σ of ``W_p`` in the units of
            the colours (ours, the cue's σ). Defaults to 0.1.
        temperature (float, optional): How ``F^f`` becomes cluster
            probabilities (:func:`fused_probabilities`): None for
            ``fuse='prob'`` (default), a T for ``fuse='raw'``.
    """

    def __init__(
        self,
        fs_mode: str = 'gram',
        loss_weight_fs: float = 0.1,
        loss_weight_reg: float = 0.05,
        sigma_xy: float = 3.0,
        sigma_colour: float = 0.1,
        temperature: Optional[float] = None,
    ) -> None:
        super().__init__()
        if fs_mode not in FS_MODES:
            raise ValueError(
                f'fs_mode must be one of {FS_MODES}, got {fs_mode!r}'
            )
        self.fs_mode = fs_mode
        self.loss_weight_fs = loss_weight_fs
        self.loss_weight_reg = loss_weight_reg
        self.sigma_xy = sigma_xy
        self.sigma_colour = sigma_colour
        self.temperature = temperature

    def forward(
        self, fused: Tensor, codes: Tensor, colours: Tensor
    ) -> Dict[str, Tensor]:
        """Weighted ``loss_fs`` and ``loss_reg``.

        Args:
            fused (Tensor): ``F^f`` (B, K, h, w) (Eq. 13).
            codes (Tensor): ``F^c`` (B, C, h, w).
            colours (Tensor): Downsampled images (B, 3, h, w).

        Returns:
            dict[str, Tensor]: ``loss_fs`` and ``loss_reg``.
        """
        if self.fs_mode == 'kim2020':
            fs = kim_feature_similarity_loss(fused, self.temperature)
            reg = kim_continuity_regulariser(fused)
        else:
            fs = gram_feature_similarity_loss(
                fused, codes, colours, self.sigma_xy, self.sigma_colour
            )
            reg = cluster_balance_regulariser(fused, self.temperature)
        return {
            'loss_fs': self.loss_weight_fs * fs,
            'loss_reg': self.loss_weight_reg * reg,
        }
