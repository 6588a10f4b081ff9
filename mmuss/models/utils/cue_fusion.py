# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg's low-level cue f_γ (Eq. 1) and its fusion with the head (Eq. 13).

:func:`low_level_visual_cue` composes f_γ from the per-equation functions
of :mod:`.fuzzy_cmeans` (Eqs. 3-8) and :mod:`.colour_affinity`
(Eqs. 9-12).

IL2Vseg (Qing et al.), "Visual Characteristics of the Fused":
``F_f = (1 - α) F_seg + α F_l``, with ``F_seg`` the head's cluster scores
(cosine similarities to the global centres, in [-1, 1]) and ``F_l`` the
low-level cue (Eq. 12), both (B, K, h, w); α = 0.5 in training.

Two gaps in the text, and the options that reach each reading:

* **Channel correspondence.** Fuzzy clusters of one image's colours have
  no order of their own, so adding cue channel k to head channel k is only
  meaningful once they are aligned. ``align='none'`` (default) trusts the
  cue's order: right when the fuzzy c-means was initialised from the head
  (``spatial_fuzzy_cmeans(x, init_memberships=softmax(F_seg / T))``), our
  reading. ``align='hungarian'`` permutes the cue's channels per image to
  the head's clusters (maximal soft overlap with the head's argmax), for a
  cue clustered from any other initialisation.
* **Scale.** ``F_seg`` is a cosine in [-1, 1]; the row-normalised cue is a
  probability in [0, 1]. ``fuse='prob'`` (default) adds probabilities,
  ``(1 - α) softmax(F_seg / T) + α F_l``; ``fuse='raw'`` is the literal
  equation on the scores.

Gradients reach ``F_seg`` (the head); the cue is a fixed target and is
detached unless ``detach_cue=False``.
"""

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from .colour_affinity import low_level_cue
from .fuzzy_cmeans import downsample_image, spatial_fuzzy_cmeans

FUSION_MODES = ('prob', 'raw')
ALIGNMENTS = ('none', 'hungarian')


@torch.no_grad()
def low_level_visual_cue(
    image: Tensor,
    init_memberships: Tensor,
    sigma: float = 0.1,
    m: float = 2.0,
    num_iters: int = 10,
    exponent: str = 'printed',
    spatial: bool = True,
    normalise: str = 'row',
    chunk_size: Optional[int] = None,
) -> Tensor:
    """Low-level cue ``F_l = f_γ(bilinear(I))``, IL2Vseg Eq. 1.

    The image is bilinearly downsampled to the grid of
    ``init_memberships`` (:func:`downsample_image`), clustered by spatial
    fuzzy c-means started from ``init_memberships``
    (:func:`spatial_fuzzy_cmeans`, Eqs. 3-8), and spread by its colour
    affinity (:func:`low_level_cue`, Eqs. 9-12). A fixed cue: computed
    without gradients.

    Args:
        image (Tensor): Images (B, C_3, H, W), in the colour units σ is
            given in.
        init_memberships (Tensor): ``U⁰`` (B, K, h, w), e.g. the head's
            ``softmax(F_seg / T)``, so that cue channel k follows head
            cluster k.
        sigma (float): σ of Eq. 10. Defaults to 0.1.
        m (float): Fuzzifier. Defaults to 2.
        num_iters (int): Fuzzy c-means iterations. Defaults to 10.
        exponent (str): Eq. 4's power, ``'printed'`` or ``'standard'``.
            Defaults to ``'printed'``.
        spatial (bool): Apply Eqs. 5-6. Defaults to True.
        normalise (str): ``'row'`` or ``'none'`` (Eq. 12's scale).
            Defaults to ``'row'``.
        chunk_size (int, optional): Rows of ``A`` built at once.
            Defaults to None.

    Returns:
        Tensor: ``F_l`` (B, K, h, w).
    """
    grid: Tuple[int, int] = tuple(init_memberships.shape[2:])
    x = downsample_image(image, grid).to(init_memberships.dtype)
    probs, _ = spatial_fuzzy_cmeans(
        x,
        init_memberships=init_memberships,
        m=m,
        num_iters=num_iters,
        exponent=exponent,
        spatial=spatial,
    )
    return low_level_cue(x, probs, sigma, normalise, chunk_size)


def head_cluster_overlap(seg: Tensor, cue: Tensor) -> Tensor:
    """Soft overlap of head clusters and cue channels, (B, K, K).

    ``O[b, k, l] = Σ_i [argmax_c F_seg[b, c, i] = k] · F_l[b, l, i]``: how
    much of cue channel l lies on pixels the head gives to cluster k.

    Args:
        seg (Tensor): Head scores ``F_seg`` (B, K, h, w).
        cue (Tensor): Cue ``F_l`` (B, K, h, w).

    Returns:
        Tensor: ``O`` (B, K, K), head clusters by cue channels.
    """
    head = F.one_hot(seg.argmax(dim=1), seg.shape[1]).to(cue.dtype)
    return torch.einsum('bhwk,blhw->bkl', head, cue)


def align_cue_to_head(seg: Tensor, cue: Tensor) -> Tensor:
    """Cue channels permuted per image to match the head's clusters.

    The alternative reading of IL2Vseg Eq. 13's channel correspondence:
    per image, the permutation of the cue's channels that maximises
    :func:`head_cluster_overlap` (Hungarian, ``linear_sum_assignment``), so
    that channel k of the result is the fuzzy cluster lying most on the
    head's cluster k. The permutation is discrete; values keep their
    gradients.

    Args:
        seg (Tensor): Head scores ``F_seg`` (B, K, h, w).
        cue (Tensor): Cue ``F_l`` (B, K, h, w).

    Returns:
        Tensor: The permuted cue (B, K, h, w).
    """
    overlap = head_cluster_overlap(seg.detach(), cue.detach()).cpu()
    aligned = []
    for image_cue, image_overlap in zip(cue, overlap):
        _, cue_channels = linear_sum_assignment(
            image_overlap.double().numpy(), maximize=True
        )
        index = torch.as_tensor(cue_channels, device=cue.device)
        aligned.append(image_cue.index_select(0, index))
    return torch.stack(aligned)


def fuse_cues(
    seg: Tensor,
    cue: Tensor,
    alpha: float = 0.5,
    fuse: str = 'prob',
    align: str = 'none',
    temperature: float = 0.1,
    detach_cue: bool = True,
) -> Tensor:
    """Fused cue ``F_f = (1 - α) F_seg + α F_l``, IL2Vseg Eq. 13.

    Args:
        seg (Tensor): Head scores ``F_seg`` (B, K, h, w), e.g. cosine
            similarities to the global centres.
        cue (Tensor): Low-level cue ``F_l`` (B, K, h, w) (Eq. 12).
        alpha (float): α in [0, 1]; 0.5 in IL2Vseg's training, 0 is the
            head alone. Defaults to 0.5.
        fuse (str): ``'prob'`` (``softmax(F_seg / T)`` in place of
            ``F_seg``, our default) or ``'raw'`` (the literal scores).
            Defaults to ``'prob'``.
        align (str): ``'none'`` (the cue's channels already follow the
            head's, our default) or ``'hungarian'``
            (:func:`align_cue_to_head`). Defaults to ``'none'``.
        temperature (float): T of ``'prob'``; SmooSeg's 0.1 (the paper
            gives none). Defaults to 0.1.
        detach_cue (bool): Stop gradients into the cue. Defaults to True.

    Returns:
        Tensor: ``F_f`` (B, K, h, w).
    """
    if seg.shape != cue.shape:
        raise ValueError(
            f'head scores {tuple(seg.shape)} and cue {tuple(cue.shape)} '
            'must have the same shape'
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must lie in [0, 1], got {alpha}')
    if fuse not in FUSION_MODES:
        raise ValueError(f'fuse must be one of {FUSION_MODES}, got {fuse!r}')
    if align not in ALIGNMENTS:
        raise ValueError(f'align must be one of {ALIGNMENTS}, got {align!r}')
    if detach_cue:
        cue = cue.detach()
    if align == 'hungarian':
        cue = align_cue_to_head(seg, cue)
    high = F.softmax(seg / temperature, dim=1) if fuse == 'prob' else seg
    return (1.0 - alpha) * high + alpha * cue
