# Copyright (c) mmuss contributors. All rights reserved.
"""Label-free scores of an unsupervised segmentation (issue 20).

Each score is computed from what the model itself outputs on held-out
images (codes, cluster assignments, its own prediction on a perturbed
image) and the frozen backbone's features; none reads a label. Every score
here is "higher is better". They are the building blocks of
:class:`~mmuss.evaluation.metrics.LabelFreeScoreMetric`.
"""

from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmuss.models.probes.cluster_probe import spherical_kmeans

from .hungarian import confusion_matrix, hungarian_assignment


def fixed_pixel_sample(num_pixels: int, num_samples: int, seed: int) -> Tensor:
    """Indices of a fixed random subset of ``num_pixels`` pixels.

    The subset depends only on the sizes and ``seed``, never on the
    image's content or the model, so every checkpoint is scored on the same
    pixels.

    Args:
        num_pixels (int): Pixels of the map (h * w).
        num_samples (int): Pixels wanted; all pixels when larger.
        seed (int): Seed of the subset.

    Returns:
        Tensor: Sorted long indices, ``min(num_pixels, num_samples)`` of
        them.
    """
    if num_samples >= num_pixels:
        return torch.arange(num_pixels)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(num_pixels, generator=generator)
    return order[:num_samples].sort().values


def cosine_kmeans_objective(points: Tensor, assignment: Tensor) -> float:
    """Cosine k-means objective of a partition (STEGO's cluster-probe loss,
    PriMaPs Eq. 9, evaluated rather than minimised).

    ``mean_i cos(x_i, mu_{c(i)})`` with ``mu_k`` the L2-normalised mean of
    the L2-normalised points of cluster ``k`` and ``c(i)`` the model's own
    cluster of point ``i``: 1 when every cluster's codes are parallel.

    Rewards compact clusters of codes. Fooled by codes that collapse onto a
    few directions (all parallel gives 1 whatever the partition) and,
    across methods, by code spaces of different dimension.

    Args:
        points (Tensor): (N, D) code vectors.
        assignment (Tensor): (N,) cluster ids.

    Returns:
        float: In [-1, 1].
    """
    points = F.normalize(points.double(), dim=1)
    clusters, index = torch.unique(assignment, return_inverse=True)
    sums = torch.zeros(len(clusters), points.shape[1], dtype=points.dtype)
    sums.index_add_(0, index, points)
    centres = F.normalize(sums, dim=1)
    return float((points * centres[index]).sum(dim=1).mean())


def cosine_silhouette(points: Tensor, assignment: Tensor) -> float:
    """Mean silhouette (Rousseeuw, 1987) of a partition under the cosine
    distance ``1 - cos``.

    For point ``i``: ``a`` is its mean distance to the other points of its
    cluster, ``b`` the smallest mean distance to the points of another
    cluster, ``s = (b - a) / max(a, b)``; points alone in their cluster get
    ``s = 0`` (as scikit-learn). A partition with a single cluster scores 0
    (the silhouette is undefined there; 0 marks "no structure").

    Rewards clusters that are tight and far apart in code space, whatever
    their number. Fooled by a split of one true class along a strong
    nuisance direction of the codes (it scores as well as a split between
    classes) and, across methods, by code spaces of different geometry.

    Args:
        points (Tensor): (N, D) code vectors.
        assignment (Tensor): (N,) cluster ids.

    Returns:
        float: In [-1, 1].
    """
    points = F.normalize(points.double(), dim=1)
    clusters, index = torch.unique(assignment, return_inverse=True)
    if len(clusters) < 2:
        return 0.0
    distance = (1 - points @ points.T).clamp_min(0)
    members = F.one_hot(index, len(clusters)).to(distance.dtype)
    counts = members.sum(dim=0)
    sums = distance @ members  # (N, K): summed distance to each cluster
    own_count = counts[index]
    own = sums.gather(1, index[:, None])[:, 0] / (own_count - 1).clamp_min(1)
    others = sums / counts
    others.scatter_(1, index[:, None], float('inf'))
    nearest = others.min(dim=1).values
    score = (nearest - own) / torch.maximum(own, nearest).clamp_min(1e-12)
    score = torch.where(own_count > 1, score, torch.zeros_like(score))
    return float(score.mean())


def matched_agreement(hist: np.ndarray) -> float:
    """Share of pixels whose clusters agree between two predictions after
    one-to-one Hungarian matching of the clusters.

    ``hist[a, b]`` counts pixels in cluster ``a`` in the first prediction
    and ``b`` in the second (e.g. the image and its mirror, mapped back);
    the matching maximising the agreeing pixels
    (:func:`~mmuss.evaluation.functional.hungarian_assignment`) is applied
    and the agreeing share returned.

    Rewards predictions that do not change under perturbations that should
    not change the segmentation. Fooled by a collapsed model (one cluster
    everywhere agrees with itself: 1) and by predictions that ignore the
    image.

    Args:
        hist (np.ndarray): (K, K) co-occurrence counts.

    Returns:
        float: In [0, 1]; NaN for an empty histogram.
    """
    total = hist.sum()
    if total == 0:
        return float('nan')
    assignment = hungarian_assignment(hist)
    rows = np.arange(len(assignment))
    return float(hist[rows, assignment].sum() / total)


def probe_seed_agreement(
    points: Tensor,
    num_clusters: int,
    seeds: Tuple[int, int] = (0, 1),
    restarts: int = 1,
    iters: int = 20,
) -> float:
    """Agreement between two cluster probes fitted with different seeds
    on the same codes, Hungarian-matched.

    Each probe is a cosine k-means of the codes (k-means++ seeding, Lloyd
    iterations: :func:`~mmuss.models.probes.cluster_probe.
    spherical_kmeans`) with ``num_clusters`` centres and its own seed; the
    two partitions of the points are compared with
    :func:`matched_agreement`. Issue 20 names "agreement between two probe
    seeds"; the probes here are refitted on the validation codes (k-means
    is the probe STEGO's cluster probe trains towards) so that no second
    training run is needed.

    Rewards codes whose K-cluster structure is unambiguous: every seeding
    finds the same partition. Fooled by collapsed codes (identical points
    fall into one cluster for every seed: 1) and by a structure of another
    number of clusters than K that happens to be stable; blind to whether
    the stable clusters are classes.

    Args:
        points (Tensor): (N, D) code vectors.
        num_clusters (int): Centres of each probe (the model's K).
        seeds (tuple[int, int]): The two probes' seeds. Defaults to (0, 1).
        restarts (int): k-means++ seedings per probe (the best kept); one
            by default, so each probe is one seeded run. Defaults to 1.
        iters (int): Lloyd iterations. Defaults to 20.

    Returns:
        float: In [0, 1].
    """
    points = F.normalize(points.float(), dim=1)
    partitions = []
    for seed in seeds:
        generator = torch.Generator().manual_seed(int(seed))
        centres = spherical_kmeans(
            points, num_clusters, restarts, iters, generator
        )
        partitions.append((points @ centres.T).argmax(dim=1))
    hist = confusion_matrix(*partitions, num_clusters, num_clusters)
    return matched_agreement(hist.numpy())


def affinity_pair_counts(
    features: Tensor, assignment: Tensor, quantile: float
) -> Tuple[int, int, int, int]:
    """Counts of the pixel pairs of one image for
    :func:`affinity_agreement`.

    Pairs (``i < j``) are ranked by the cosine similarity of the frozen
    features; the top ``quantile`` share are high-affinity pairs, the
    bottom ``quantile`` share low-affinity pairs (ties at the thresholds
    included).

    Args:
        features (Tensor): (N, C) frozen features of N pixels.
        assignment (Tensor): (N,) the model's clusters of those pixels.
        quantile (float): Share of pairs in each of the two groups, in
            (0, 0.5].

    Returns:
        tuple[int, int, int, int]: High-affinity pairs in the same cluster,
        high-affinity pairs, low-affinity pairs in different clusters,
        low-affinity pairs.
    """
    if not 0 < quantile <= 0.5:
        raise ValueError(f'quantile must be in (0, 0.5], got {quantile}')
    features = F.normalize(features.double(), dim=1)
    rows, cols = torch.triu_indices(len(features), len(features), 1)
    if not len(rows):
        return 0, 0, 0, 0
    affinity = (features[rows] * features[cols]).sum(dim=1)
    same = assignment[rows] == assignment[cols]
    high = affinity >= torch.quantile(affinity, 1 - quantile)
    low = affinity <= torch.quantile(affinity, quantile)
    return (
        int((same & high).sum()),
        int(high.sum()),
        int((~same & low).sum()),
        int(low.sum()),
    )


def affinity_agreement(
    same_high: int, num_high: int, diff_low: int, num_low: int
) -> float:
    """Agreement of a prediction with the frozen features' own affinity:
    the balanced accuracy of "same cluster" as a predictor of
    high affinity.

    ``0.5 * (P(same cluster | high affinity) + P(different clusters | low
    affinity))`` over pixel pairs of the same image (counts from
    :func:`affinity_pair_counts`). The issue names the first term (the share
    of high-affinity pairs that land in one cluster); alone it is 1 for a
    model that predicts one cluster everywhere, so the second term is
    added: a collapsed model scores 0.5, a prediction that splits every
    pair 0.5, one that follows the features' affinity 1.

    Rewards predictions consistent with the backbone's own similarity
    structure (what every method here distils). Fooled by a model that
    reproduces the backbone's biases (a segmentation no better than
    clustering the features) and blind to improvements that go against
    the raw features (the very thing a trained head adds).

    Returns:
        float: In [0, 1]; NaN without pairs.
    """
    if num_high == 0 or num_low == 0:
        return float('nan')
    return 0.5 * (same_high / num_high + diff_low / num_low)
