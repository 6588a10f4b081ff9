# Copyright (c) mmuss contributors. All rights reserved.
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmuss.models.utils import DenseCRF
from mmuss.models.utils.primaps import (
    covariance_from_moments,
    feature_covariance,
    first_principal_component,
    mask_mean_features,
    nearest_neighbour_anchor,
    principal_mask_proposals,
    proposal_scores,
    reference_proposals_pca_lowrank,
    refine_proposals,
    similarity_map,
    threshold_mask,
)


def blocky_features(
    seed=0, batch=2, channels=32, size=12, regions=4, noise=0.3
):
    """Features of a few rectangular regions with distinct directions."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(regions, channels, generator=generator)
    labels = torch.randint(
        0, regions, (batch, 1, 3, 3), generator=generator
    ).float()
    labels = F.interpolate(labels, size=(size, size), mode='nearest')
    labels = labels[:, 0].long()
    feats = directions[labels].permute(0, 3, 1, 2)
    feats = feats + noise * torch.randn(feats.shape, generator=generator)
    return feats, labels


def test_covariance_matches_numpy_on_masked_features():
    feats = torch.randn(1, 30, 5, dtype=torch.float64)
    mask = torch.rand(1, 30) > 0.4
    expected = np.cov(feats[0][mask[0]].numpy().T, bias=True)
    np.testing.assert_allclose(
        feature_covariance(feats, mask)[0], expected, atol=1e-12
    )


def test_covariance_from_moments_equals_eq2():
    feats = torch.randn(2, 40, 6, dtype=torch.float64)
    mask = torch.rand(2, 40) > 0.3
    kept = feats * mask[..., None]
    moments = covariance_from_moments(
        kept.transpose(1, 2) @ kept, kept.sum(1), mask.sum(1)
    )
    torch.testing.assert_close(moments, feature_covariance(feats, mask))


def test_principal_component_is_the_top_eigenvector():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(3, 20, 20, dtype=torch.float64, generator=generator)
    covariance = a @ a.transpose(1, 2)
    vector = first_principal_component(covariance)
    for index in range(3):
        values, vectors = np.linalg.eig(covariance[index].numpy())
        expected = torch.from_numpy(vectors[:, values.argmax()].real)
        assert abs(float(vector[index] @ expected)) == pytest.approx(1.0)
    # hand-computed: diag(1, 3) -> the second axis
    vector = first_principal_component(
        torch.tensor([[[1.0, 0.0], [0.0, 3.0]]], dtype=torch.float64)
    )
    assert vector.abs().tolist() == [[0.0, 1.0]]


def test_anchor_similarity_and_threshold_hand_computed():
    normed = torch.tensor([[[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0]]])
    mask = torch.tensor([[True, True, True, False]])
    # Eq. 4 over the unassigned locations: the direction (0.8, 0.6) is
    # closest to feature 1; -direction would pick feature 3, which is
    # assigned.
    anchor = nearest_neighbour_anchor(torch.tensor([[0.8, 0.6]]), normed, mask)
    torch.testing.assert_close(anchor, torch.tensor([[0.6, 0.8]]))
    similarity = similarity_map(anchor, normed)  # Eq. 5
    torch.testing.assert_close(
        similarity, torch.tensor([[0.6, 1.0, 0.8, -0.6]])
    )
    # Eq. 6 with psi = 0.7: > 0.7 * 1.0 among unassigned -> 1 and 2
    assert threshold_mask(similarity, mask, 0.7).tolist() == [
        [False, True, True, False]
    ]


def test_proposals_recover_regions_and_match_pca_lowrank_loop():
    feats, labels = blocky_features()
    ids = principal_mask_proposals(feats)
    for image in range(2):
        for region in labels[image].unique():
            inside = ids[image][labels[image] == region]
            assert inside.unique().numel() == 1 and inside[0] > 0
        assert (ids[image] > 0).float().mean() >= 0.95
    torch.testing.assert_close(ids, reference_proposals_pca_lowrank(feats))


def test_masks_do_not_overlap_and_follow_assignment_order():
    feats, _ = blocky_features(seed=3, regions=6)
    ids = principal_mask_proposals(feats)
    # every location has exactly one id; ids are consecutive from 1
    for image in ids:
        present = image.unique()
        present = present[present > 0]
        assert present.tolist() == list(range(1, len(present) + 1))


def test_degenerate_inputs_terminate_without_nan():
    constant = torch.ones(2, 8, 6, 6)
    ids = principal_mask_proposals(constant)
    assert (ids == 1).all()  # one region covers everything
    zeros = torch.zeros(1, 8, 6, 6)
    ids = principal_mask_proposals(zeros)
    assert ids.shape == (1, 6, 6)
    single = torch.randn(1, 8, 1, 1)
    assert principal_mask_proposals(single).tolist() == [[[1]]]
    with pytest.raises(ValueError, match='NaN'):
        principal_mask_proposals(torch.full((1, 4, 2, 2), float('nan')))


def test_stops_at_coverage_and_leaves_rest_unassigned():
    feats, _ = blocky_features(regions=4, noise=0.0)
    ids = principal_mask_proposals(feats, coverage=0.3)
    assert ((ids > 0).float().mean(dim=(1, 2)) >= 0.3).all()
    assert (ids == 0).any()


def test_scores_and_refinement_without_crf():
    ids = torch.zeros(1, 12, 12, dtype=torch.long)
    ids[0, :, :4] = 1
    ids[0, :, 4:8] = 2  # columns 8-11 unassigned
    scores = proposal_scores(ids[0])
    assert scores.shape == (3, 12, 12)
    torch.testing.assert_close(scores.exp().sum(0), torch.ones(12, 12))
    images = torch.zeros(1, 24, 24, 3, dtype=torch.uint8)
    refined = refine_proposals(ids, images, crf=None)
    assert refined.shape == (1, 24, 24)
    assert refined[0, :, :7].unique().tolist() == [1]
    assert refined[0, :, 9:15].unique().tolist() == [2]
    assert refined[0, :, 17:].unique().tolist() == [255]


def test_median_filter_removes_isolated_pixels():
    ids = torch.ones(1, 8, 8, dtype=torch.long)
    ids[0, 4, 4] = 2  # a single-pixel mask disappears
    scores = proposal_scores(ids[0], num_masks=2)
    assert (scores.argmax(0) == 1).all()


def test_scores_are_the_images_own():
    # one mask in the first image, three in the second: each image's scores
    # have 1 + Z_i channels, whatever the other image holds
    ids = torch.zeros(2, 12, 12, dtype=torch.long)
    ids[0, :, :6] = 1
    ids[1, :4], ids[1, 4:8], ids[1, 8:] = 1, 2, 3
    assert proposal_scores(ids[0]).shape == (2, 12, 12)
    assert proposal_scores(ids[1]).shape == (4, 12, 12)
    with pytest.raises(ValueError, match='one'):
        proposal_scores(ids)


@pytest.mark.parametrize('use_crf', [False, True])
def test_pseudo_labels_do_not_depend_on_the_batch(use_crf):
    feats, _ = blocky_features(seed=4, batch=3, regions=5)
    ids = principal_mask_proposals(feats)
    ids[1] = (ids[1] > 0).long()  # image 1: a single mask
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(
        0, 256, (3, 24, 24, 3), generator=generator, dtype=torch.uint8
    )
    crf = DenseCRF(num_workers=1) if use_crf else None
    together = refine_proposals(ids, images, crf)
    for index in range(3):
        alone = refine_proposals(
            ids[index : index + 1], images[index : index + 1], crf
        )
        torch.testing.assert_close(alone[0], together[index])
    assert set(together[1].unique().tolist()) <= {1, 255}


def test_anchor_sign_options():
    normed = torch.tensor([[[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    direction = torch.tensor([[-0.8, -0.6]])  # the solver's arbitrary sign
    oriented = nearest_neighbour_anchor(direction, normed, mask)
    torch.testing.assert_close(oriented, torch.tensor([[0.6, 0.8]]))
    # upstream: sign as returned, the feature least opposed to it
    solver = nearest_neighbour_anchor(direction, normed, mask, 'solver')
    torch.testing.assert_close(solver, torch.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError, match='anchor_sign'):
        nearest_neighbour_anchor(direction, normed, mask, 'positive')


def test_max_masks_below_coverage_is_warned_once(monkeypatch):
    from mmuss.models.utils import primaps

    monkeypatch.setattr(primaps, '_warned_max_masks', False)
    feats, _ = blocky_features(regions=6)
    with pytest.warns(UserWarning, match=r'max_masks=1 stopped 2 image'):
        principal_mask_proposals(feats, max_masks=1)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        principal_mask_proposals(feats, max_masks=1)


def test_mask_mean_features_hand_computed():
    feats = torch.zeros(1, 2, 2, 2)
    feats[0, :, 0, 0] = torch.tensor([3.0, 4.0])  # unit (0.6, 0.8)
    feats[0, :, 0, 1] = torch.tensor([0.0, 2.0])  # unit (0, 1)
    feats[0, :, 1, 0] = torch.tensor([5.0, 0.0])  # in no mask
    feats[0, :, 1, 1] = torch.tensor([-1.0, 0.0])
    # masks at twice the feature resolution: nearest resizing keeps the
    # top-left pixel of every 2x2 cell
    masks = torch.tensor([[7, 0, 7, 0], [0] * 4, [255, 0, 9, 0], [0] * 4])
    masks = masks.reshape(1, 4, 4)
    rows = mask_mean_features(feats, masks)
    mean = F.normalize(torch.tensor([0.6, 0.8 + 1.0]), dim=0)
    expected = torch.stack([mean, mean, torch.tensor([-1.0, 0.0])])
    torch.testing.assert_close(rows, expected)


def test_mask_mean_features_checks_batch_sizes():
    with pytest.raises(ValueError, match='2 mask maps for 1 feature maps'):
        mask_mean_features(torch.zeros(1, 2, 2, 2), torch.zeros(2, 2, 2))
