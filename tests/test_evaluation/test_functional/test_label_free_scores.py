# Copyright (c) mmuss contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from mmuss.evaluation.functional import (
    affinity_agreement,
    affinity_pair_counts,
    cosine_kmeans_objective,
    cosine_silhouette,
    fixed_pixel_sample,
    matched_agreement,
    probe_seed_agreement,
)
from mmuss.models.probes.cluster_probe import spherical_kmeans


def test_kmeans_objective_hand_computed():
    points = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    # one cluster: centre along (1, 1) after normalising (1,0)+(0,1)+(1,0)
    # = (2, 1) / sqrt(5); cosines 2/sqrt5, 1/sqrt5, 2/sqrt5
    one = cosine_kmeans_objective(points, torch.tensor([0, 0, 0]))
    assert one == pytest.approx(5 / 3 / math.sqrt(5))
    # the partition by direction: every point on its centre
    split = cosine_kmeans_objective(points, torch.tensor([4, 7, 4]))
    assert split == pytest.approx(1.0)


def brute_force_silhouette(points, labels):
    distance = cdist(points, points, metric='cosine')
    scores = []
    for i, label in enumerate(labels):
        same = [j for j in range(len(labels)) if labels[j] == label and j != i]
        if not same:
            scores.append(0.0)
            continue
        own = distance[i, same].mean()
        nearest = min(
            distance[i, labels == other].mean()
            for other in set(labels.tolist()) - {label}
        )
        scores.append((nearest - own) / max(own, nearest))
    return float(np.mean(scores))


def test_silhouette_matches_brute_force_with_scipy():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(40, 5, generator=generator)
    labels = torch.randint(0, 4, (40,), generator=generator)
    labels[0] = 9  # a singleton cluster scores 0
    expected = brute_force_silhouette(points.numpy(), labels.numpy())
    assert cosine_silhouette(points, labels) == pytest.approx(expected)


def test_silhouette_hand_computed_and_degenerate_cases():
    points = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # a = 0 inside each pair, b = 1 to the other pair: every point s = 1
    assert cosine_silhouette(points, torch.tensor([0, 0, 1, 1])) == 1.0
    # the crossed partition: a = 1, b = mean(0, 1) = 0.5 -> s = -0.5
    assert cosine_silhouette(
        points, torch.tensor([0, 1, 0, 1])
    ) == pytest.approx(-0.5)
    assert cosine_silhouette(points, torch.zeros(4, dtype=torch.long)) == 0


def test_matched_agreement_is_permutation_invariant():
    hist = np.array([[3, 1], [0, 4]])
    assert matched_agreement(hist) == pytest.approx(7 / 8)
    assert matched_agreement(hist[:, ::-1]) == pytest.approx(7 / 8)
    assert math.isnan(matched_agreement(np.zeros((2, 2))))


def test_affinity_agreement_hand_computed():
    features = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    # affinities of the 6 pairs: (0,1) = (2,3) = 1, the other four 0; with
    # quantile 1/3 the two affinity-1 pairs are high, the four 0 low
    counts = affinity_pair_counts(features, torch.tensor([5, 5, 2, 2]), 1 / 3)
    assert counts == (2, 2, 4, 4)
    assert affinity_agreement(*counts) == 1.0
    collapsed = affinity_pair_counts(features, torch.zeros(4).long(), 1 / 3)
    assert collapsed == (2, 2, 0, 4)
    assert affinity_agreement(*collapsed) == 0.5
    split_all = affinity_pair_counts(features, torch.arange(4), 1 / 3)
    assert affinity_agreement(*split_all) == 0.5
    assert math.isnan(affinity_agreement(0, 0, 0, 0))
    with pytest.raises(ValueError, match='quantile'):
        affinity_pair_counts(features, torch.arange(4), 0.7)


def test_fixed_pixel_sample_depends_on_seed_only():
    first = fixed_pixel_sample(100, 10, seed=3)
    assert torch.equal(first, fixed_pixel_sample(100, 10, seed=3))
    assert not torch.equal(first, fixed_pixel_sample(100, 10, seed=4))
    assert len(first.unique()) == 10 and first.max() < 100
    assert torch.equal(fixed_pixel_sample(5, 10, seed=0), torch.arange(5))


def test_probe_seed_agreement_is_one_on_separated_clusters():
    generator = torch.Generator().manual_seed(0)
    centres = torch.eye(4)
    points = centres.repeat_interleave(25, dim=0)
    points = points + 0.05 * torch.randn(100, 4, generator=generator)
    for seeds in [(0, 1), (3, 7)]:
        assert probe_seed_agreement(points, 4, seeds) == 1.0
    # collapsed codes fool it, as documented
    assert probe_seed_agreement(torch.ones(50, 4), 3) == 1.0


def test_probe_seed_agreement_matches_scipy_matching_on_ambiguous_codes():
    # points spread evenly on a circle have no 5-cluster structure: the two
    # seeds cut it differently
    angles = torch.linspace(0, 2 * math.pi, 201)[:-1]
    points = torch.stack([angles.cos(), angles.sin()], dim=1)
    score = probe_seed_agreement(points, 5, (0, 1))
    partitions = []
    for seed in (0, 1):
        generator = torch.Generator().manual_seed(seed)
        centres = spherical_kmeans(points, 5, 1, 20, generator)
        partitions.append((points @ centres.T).argmax(dim=1).numpy())
    hist = np.zeros((5, 5))
    np.add.at(hist, tuple(partitions), 1)
    rows, cols = linear_sum_assignment(-hist)
    assert score == pytest.approx(hist[rows, cols].sum() / 200)
    assert 0.2 <= score < 1.0
