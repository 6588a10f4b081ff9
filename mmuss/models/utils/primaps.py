# Copyright (c) mmuss contributors. All rights reserved.
"""PriMaPs: principal mask proposals (Hahn et al., TMLR 2024, Sec. 3.1).

An image is decomposed into non-overlapping masks, one per iteration: the
first principal component of the not-yet-assigned features is anchored to
its nearest feature, the cosine similarity to that anchor is thresholded at
psi times its maximum, and the mask's features are removed before the next
iteration, until 95 % of the patches are assigned. The loop runs on a batch
of images at once (batched eigendecompositions), images dropping out as
they finish, and keeps running feature moments so that each feature enters
the covariances once rather than once per mask.
"""

import warnings
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .dense_crf import DenseCRF


def feature_covariance(feats: Tensor, mask: Tensor) -> Tensor:
    """Empirical covariance of the masked features (PriMaPs Eq. 2).

    ``Sigma = 1/N sum_(i,j in mask) (f_ij - f_mean)(f_ij - f_mean)^T`` over
    the N not-yet-assigned locations (Eq. 7 removes assigned features; we
    read it, as the upstream code does, as leaving them out of the
    statistics rather than counting them as zero vectors).

    Args:
        feats (Tensor): (B, N, C) features.
        mask (Tensor): (B, N) bool, locations taking part.

    Returns:
        Tensor: (B, C, C) covariances.
    """
    weights = mask.to(feats.dtype)
    count = weights.sum(dim=1).clamp_min(1)[:, None, None]
    mean = (feats * weights[..., None]).sum(dim=1, keepdim=True) / count
    centred = (feats - mean) * weights[..., None]
    return centred.transpose(1, 2) @ centred / count


def covariance_from_moments(
    scatter: Tensor, total: Tensor, count: Tensor
) -> Tensor:
    """The covariance of Eq. 2 from running sums of the not-yet-assigned
    features: ``Sigma = S / N - mu mu^T`` with ``S = sum f f^T``,
    ``mu = sum f / N``. The proposal loop keeps these sums and subtracts
    each mask's features once, instead of re-reading all remaining
    features for every mask (same value as :func:`feature_covariance`).

    Args:
        scatter (Tensor): (B, C, C) sums of outer products.
        total (Tensor): (B, C) sums of the features.
        count (Tensor): (B,) numbers of features.

    Returns:
        Tensor: (B, C, C) covariances.
    """
    count = count.clamp_min(1).to(scatter.dtype)
    mean = total / count[:, None]
    return scatter / count[:, None, None] - mean[:, :, None] * mean[:, None]


def first_principal_component(covariance: Tensor) -> Tensor:
    """Eigenvector of the largest eigenvalue (PriMaPs Eq. 3), (B, C).

    Batched symmetric eigendecomposition (``torch.linalg.eigh``), exact
    where upstream's ``torch.pca_lowrank`` is a randomised approximation.
    The sign is arbitrary (see :func:`nearest_neighbour_anchor`).

    Args:
        covariance (Tensor): (B, C, C) symmetric positive semi-definite.

    Returns:
        Tensor: (B, C) unit vectors.
    """
    return torch.linalg.eigh(covariance)[1][..., -1]


def nearest_neighbour_anchor(
    direction: Tensor,
    normed: Tensor,
    mask: Tensor,
    anchor_sign: str = 'oriented',
) -> Tensor:
    """Anchor the principal direction at its nearest feature (PriMaPs Eq. 4).

    ``f~ = f^_ij, (i, j) = argmax v^T f^_ij`` over the not-yet-assigned
    locations. An eigenvector's sign is arbitrary and the paper does not
    say which end of the principal axis to anchor. ``'oriented'``
    (default) orients ``v`` so that its best-matching feature is the more
    similar one over both signs: the anchor is then the feature closest to
    the axis, whichever the solver returned, so the proposals do not depend
    on the linear-algebra library or machine (the sign of ``eigh`` and of
    ``pca_lowrank`` differ between implementations). ``'solver'`` keeps the
    sign as returned, as upstream does with ``pca_lowrank``; when ``v``
    points away from every feature the anchor is then a feature at an
    obtuse angle to it.

    Args:
        direction (Tensor): (B, C) principal directions.
        normed (Tensor): (B, N, C) L2-normalised features.
        mask (Tensor): (B, N) bool, candidate locations.
        anchor_sign (str): ``'oriented'`` or ``'solver'``.

    Returns:
        Tensor: (B, C) anchor features (normalised).
    """
    if anchor_sign not in ('oriented', 'solver'):
        raise ValueError(
            f'anchor_sign must be "oriented" or "solver", got {anchor_sign!r}'
        )
    similarity = torch.einsum('bnc,bc->bn', normed, direction)
    low = torch.finfo(similarity.dtype).min
    positive = similarity.masked_fill(~mask, low)
    if anchor_sign == 'solver':
        oriented = positive
    else:
        negative = (-similarity).masked_fill(~mask, low)
        use_negative = negative.max(dim=1).values > positive.max(dim=1).values
        oriented = torch.where(use_negative[:, None], negative, positive)
    index = oriented.argmax(dim=1)
    return normed[torch.arange(normed.shape[0]), index]


def similarity_map(anchor: Tensor, normed: Tensor) -> Tensor:
    """Cosine similarity of every feature to the anchor (PriMaPs Eq. 5),
    (B, N)."""
    return torch.einsum('bnc,bc->bn', normed, anchor)


def threshold_mask(
    similarity: Tensor, mask: Tensor, psi: float = 0.4
) -> Tensor:
    """Principal mask ``M_ij > psi * max M`` (PriMaPs Eq. 6), restricted to
    the not-yet-assigned locations (assigned ones are zero in Eq. 7).

    Args:
        similarity (Tensor): (B, N) similarity map M.
        mask (Tensor): (B, N) bool, not-yet-assigned locations.
        psi (float): Threshold fraction. Defaults to 0.4.

    Returns:
        Tensor: (B, N) bool proposal.
    """
    masked = similarity.masked_fill(~mask, 0)
    maximum = masked.max(dim=1, keepdim=True).values
    return (masked > psi * maximum) & mask


_warned_max_masks = False


def _warn_capped(count: int, max_masks: int, coverage: float) -> None:
    """Warn once per process that ``max_masks`` stopped images early."""
    global _warned_max_masks
    if _warned_max_masks:
        return
    _warned_max_masks = True
    warnings.warn(
        f'PriMaPs: max_masks={max_masks} stopped {count} image(s) of a batch '
        f'below the {coverage:.0%} coverage target (upstream has no cap; '
        'raise max_masks); warned once per run',
        stacklevel=3,
    )


def principal_mask_proposals(
    feats: Tensor,
    psi: float = 0.4,
    coverage: float = 0.95,
    max_masks: int = 64,
    anchor_sign: str = 'oriented',
) -> Tensor:
    """Decompose each image into principal mask proposals (PriMaPs Eqs.
    2-8).

    Iterates Eqs. 2-6 on the not-yet-assigned features (Eq. 7) until at
    least ``coverage`` of the locations are assigned; the rest form the
    "ignore" mask 0 (Eq. 8). An iteration that assigns nothing (e.g.
    identical features) ends the image's loop, as does ``max_masks``, so
    degenerate inputs terminate; features with zero norm are treated as
    orthogonal to everything.

    Args:
        feats (Tensor): (B, C, H, W) frozen features.
        psi (float): Threshold of Eq. 6. Defaults to 0.4.
        coverage (float): Fraction to assign before stopping.
            Defaults to 0.95.
        max_masks (int): Upper bound on the number of masks per image
            (upstream has none); reaching it below ``coverage`` is warned
            about once per run.
        anchor_sign (str): See :func:`nearest_neighbour_anchor`.

    Returns:
        Tensor: (B, H, W) int64 mask ids: 1..Z for the proposals in order,
        0 for the unassigned locations.
    """
    if not torch.isfinite(feats).all():
        raise ValueError('PriMaPs input features contain NaN or inf')
    batch, channels, height, width = feats.shape
    flat = feats.flatten(2).transpose(1, 2).double()  # (B, N, C)
    normed = F.normalize(flat, dim=2, eps=1e-12)
    unassigned = torch.ones(
        batch, height * width, dtype=torch.bool, device=feats.device
    )
    ids = torch.zeros(
        batch, height * width, dtype=torch.long, device=feats.device
    )
    active = torch.ones(batch, dtype=torch.bool, device=feats.device)
    scatter = flat.transpose(1, 2) @ flat
    total = flat.sum(dim=1)
    count = unassigned.sum(dim=1)
    for mask_id in range(1, max_masks + 1):
        active &= unassigned.double().mean(dim=1) > 1 - coverage
        if not active.any():
            break
        rows = active.nonzero().flatten()
        candidates = unassigned[rows]
        direction = first_principal_component(
            covariance_from_moments(scatter[rows], total[rows], count[rows])
        )
        anchor = nearest_neighbour_anchor(
            direction, normed[rows], candidates, anchor_sign
        )
        proposal = threshold_mask(
            similarity_map(anchor, normed[rows]), candidates, psi
        )
        progressed = proposal.any(dim=1)
        ids[rows] = torch.where(proposal, mask_id, ids[rows])
        unassigned[rows] &= ~proposal
        active[rows[~progressed]] = False
        for row, taken in zip(rows.tolist(), proposal):
            removed = flat[row][taken]
            scatter[row] -= removed.T @ removed
            total[row] -= removed.sum(dim=0)
            count[row] -= removed.shape[0]
    capped = active & (unassigned.double().mean(dim=1) > 1 - coverage)
    if capped.any():
        _warn_capped(int(capped.sum()), max_masks, coverage)
    return ids.reshape(batch, height, width)


def proposal_scores(
    ids: Tensor,
    num_masks: Optional[int] = None,
    gain: float = 10.0,
    median: bool = True,
) -> Tensor:
    """Soft proposal scores of one image for the CRF, as the upstream
    post-processing.

    One channel per mask (1 inside, 0 outside), optionally smoothed by a 3x3
    median filter (reflect padding), multiplied by ``gain`` and clamped to
    [0, 1]; a background channel 0 = clamp(mean of the non-zero mask values
    - sum of masks, 0, 1) is prepended. Returns log-softmax scores. The
    channel count and the background level are the image's own (upstream
    computes them per image): scores never depend on the other images of a
    batch.

    Args:
        ids (Tensor): (H, W) mask ids of one image from
            :func:`principal_mask_proposals`.
        num_masks (int, optional): Channels besides the background;
            defaults to the image's largest id.
        gain (float): Defaults to 10.
        median (bool): Apply the median filter. Defaults to True.

    Returns:
        Tensor: (1 + Z, H, W) log-probabilities.
    """
    if ids.dim() != 2:
        raise ValueError(
            f'proposal_scores takes one (H, W) id map, got {tuple(ids.shape)}'
        )
    num_masks = int(ids.max()) if num_masks is None else num_masks
    masks = F.one_hot(ids[None], num_masks + 1)[..., 1:].permute(0, 3, 1, 2)
    masks = masks.float()
    if median:
        padded = F.pad(masks, (1, 1, 1, 1), mode='reflect')
        windows = padded.unfold(2, 3, 1).unfold(3, 3, 1)
        masks = windows.reshape(*windows.shape[:4], 9).median(dim=-1).values
    masks = (masks * gain).clamp(0, 1)
    nonzero = masks[masks > 0]
    level = nonzero.mean() if nonzero.numel() else masks.new_tensor(0.0)
    background = (level - masks.sum(dim=1, keepdim=True)).clamp(0, 1)
    return F.log_softmax(torch.cat([background, masks], dim=1), dim=1)[0]


def refine_proposals(
    ids: Tensor,
    images: Tensor,
    crf: Optional[DenseCRF] = None,
    ignore_index: int = 255,
) -> Tensor:
    """Upsample proposals to the image, refine with a dense CRF and turn
    them into a pseudo-label map of mask ids (PriMaPs post-processing), one
    image at a time (each with its own channels, as upstream).

    Args:
        ids (Tensor): (B, h, w) mask ids (0 = unassigned).
        images (Tensor): (B, H, W, 3) uint8 un-normalised images.
        crf (DenseCRF, optional): None skips the CRF (argmax of the
            upsampled scores).
        ignore_index (int): Value of unassigned pixels. Defaults to 255.

    Returns:
        Tensor: (B, H, W) uint8 ids 1..Z, ``ignore_index`` for background.
    """
    height, width = images.shape[1:3]
    scores = [
        F.interpolate(
            proposal_scores(image_ids)[None],
            size=(height, width),
            mode='bilinear',
            align_corners=False,
        )[0]
        for image_ids in ids
    ]
    if crf is None:
        labels = [score.argmax(dim=0) for score in scores]
    else:  # one call: the CRF's worker pool runs over the images
        refined = crf(
            list(images.cpu().numpy()),
            [score.softmax(dim=0).cpu().numpy() for score in scores],
        )
        labels = [torch.as_tensor(r).argmax(dim=0) for r in refined]
    maps = []
    for label in labels:
        label = label.to(torch.long)
        label[label == 0] = ignore_index
        maps.append(label.to(torch.uint8))
    return torch.stack(maps)


def mask_mean_features(
    feats: Tensor, masks: Tensor, ignore_index: int = 255
) -> Tensor:
    """Every feature replaced by the mean feature of its PriMaPs mask.

    Used by :class:`PrimapsInitHook` ``init='mask_kmeans'`` (not in the
    paper): k-means on these mask-level features clusters the image regions
    the proposals found rather than single patches, whose features also
    carry patch-level nuisances (texture phase, position).

    Args:
        feats (Tensor): Features (B, C, h, w).
        masks (Tensor): Mask ids (B, H, W) at any resolution (resized to
            (h, w) by nearest neighbour); ``ignore_index`` marks patches in
            no mask.
        ignore_index (int): Defaults to 255.

    Returns:
        Tensor: (N, C), one row per patch in a mask (image by image, row
        major): the L2-normalised mean of the L2-normalised features of
        that patch's mask.
    """
    if masks.shape[0] != feats.shape[0]:
        raise ValueError(
            f'{masks.shape[0]} mask maps for {feats.shape[0]} feature maps'
        )
    ids = F.interpolate(
        masks[:, None].float(), size=feats.shape[-2:], mode='nearest'
    )[:, 0].long()
    normed = F.normalize(feats, dim=1).flatten(2).transpose(1, 2)
    rows = []
    for image_ids, image_feats in zip(ids.flatten(1), normed):
        valid = image_ids != ignore_index
        _, inverse = image_ids[valid].unique(return_inverse=True)
        sums = torch.zeros(
            int(inverse.max()) + 1 if inverse.numel() else 0,
            feats.shape[1],
            dtype=feats.dtype,
            device=feats.device,
        ).index_add_(0, inverse, image_feats[valid])
        rows.append(F.normalize(sums, dim=1)[inverse])
    return torch.cat(rows)


def reference_proposals_pca_lowrank(
    feats: Tensor,
    psi: float = 0.4,
    coverage: float = 0.95,
    max_masks: int = 64,
) -> Tensor:
    """The straightforward implementation: one image and one mask at a time,
    the principal direction from ``torch.pca_lowrank(q=3, niter=100)`` as
    upstream computes it. Kept as the reference for the agreement test and
    the speed benchmark of :func:`principal_mask_proposals`.

    Args:
        feats (Tensor): (B, C, H, W) features.
        psi, coverage, max_masks: As :func:`principal_mask_proposals`.

    Returns:
        Tensor: (B, H, W) mask ids.
    """
    results = []
    for image in feats:
        flat = image.flatten(1).T.double()
        normed = F.normalize(flat, dim=1, eps=1e-12)
        unassigned = torch.ones(flat.shape[0], dtype=torch.bool)
        ids = torch.zeros(flat.shape[0], dtype=torch.long)
        for mask_id in range(1, max_masks + 1):
            if unassigned.double().mean() <= 1 - coverage:
                break
            _, _, vectors = torch.pca_lowrank(
                flat[unassigned], q=min(3, int(unassigned.sum())), niter=100
            )
            anchor = nearest_neighbour_anchor(
                vectors[:, 0][None], normed[None], unassigned[None]
            )
            proposal = threshold_mask(
                similarity_map(anchor, normed[None]), unassigned[None], psi
            )[0]
            if not proposal.any():
                break
            ids[proposal] = mask_id
            unassigned &= ~proposal
        results.append(ids.reshape(image.shape[1:]))
    return torch.stack(results)
