# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg Eqs. 14-15: hand-computed cases, both readings, gradients."""

import math

import pytest
import torch
from mmseg.registry import MODELS

from mmuss.models.losses import (
    cluster_balance_regulariser,
    feature_similarity_matrix,
    fused_gram_matrix,
    fused_probabilities,
    gram_feature_similarity_loss,
    il2vseg_total_loss,
    kim_continuity_regulariser,
    kim_feature_similarity_loss,
    pixel_similarity_matrix,
)


def test_total_uses_the_printed_weights():
    one = torch.tensor(1.0)
    total = il2vseg_total_loss(one, one, one, one)
    torch.testing.assert_close(total, torch.tensor(0.05 + 0.1 + 1 + 1))
    no_corr = il2vseg_total_loss(2 * one, 3 * one, one)
    torch.testing.assert_close(no_corr, torch.tensor(0.1 + 0.3 + 1))


def test_feature_similarity_is_clamped_cosine():
    codes = torch.tensor([[[1.0, 0.0, -1.0]], [[0.0, 1.0, 0.0]]])  # (2,1,3)
    # pixels (1, 0), (0, 1), (-1, 0): cosines 0, -1 (clamped to 0), 0
    torch.testing.assert_close(feature_similarity_matrix(codes), torch.eye(3))


def test_pixel_similarity_by_hand():
    colours = torch.tensor([[[0.0, 0.1]]])  # (1 channel, 1x2 grid)
    weights = pixel_similarity_matrix(colours, sigma_xy=1.0, sigma_colour=0.1)
    off = math.exp(-0.5) * math.exp(-0.5)
    torch.testing.assert_close(weights, torch.tensor([[1.0, off], [off, 1.0]]))


def test_gram_is_cosine_of_fused_rows():
    fused = torch.tensor([[[3.0, 0.0]], [[4.0, 2.0]]])  # (K=2, 1, 2)
    gram = fused_gram_matrix(fused)
    torch.testing.assert_close(gram, torch.tensor([[1.0, 0.8], [0.8, 1.0]]))


def test_gram_loss_by_hand_and_zero_when_matched():
    fused = torch.tensor([[[[3.0, 0.0]], [[4.0, 2.0]]]])  # G01 = 0.8
    codes = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])  # W_f01 = 0
    colours = torch.tensor([[[[0.0, 0.1]]]])
    loss = gram_feature_similarity_loss(fused, codes, colours, 1.0, 0.1)
    w = math.exp(-1.0)
    expected = (2 * w * 0.8**2) / (2 + 2 * w)
    torch.testing.assert_close(loss, torch.tensor(expected))
    same = gram_feature_similarity_loss(codes.abs() + 1e-3, codes, colours)
    assert same < 1e-5


def test_balance_regulariser_zero_for_balanced_one_hot():
    one_hot = torch.tensor([[[[50.0, 0.0]], [[0.0, 50.0]]]])
    assert cluster_balance_regulariser(one_hot, temperature=1.0) < 1e-6
    collapsed = torch.tensor([[[[50.0, 50.0]], [[0.0, 0.0]]]])
    # P̄ᵀP̄/N = [[1, 0], [0, 0]] -> ||. - I/2||² = 0.25 + 0.25
    torch.testing.assert_close(
        cluster_balance_regulariser(collapsed, 1.0), torch.tensor(0.5)
    )


def test_kim_terms_by_hand():
    fused = torch.tensor([[[[2.0, 0.0]], [[0.0, 1.0]]]])  # (1, 2, 1, 2)
    ce0 = -torch.log_softmax(torch.tensor([2.0, 0.0]), 0)[0]
    ce1 = -torch.log_softmax(torch.tensor([0.0, 1.0]), 0)[1]
    torch.testing.assert_close(
        kim_feature_similarity_loss(fused, 1.0), (ce0 + ce1) / 2
    )
    # rows equal: no vertical change; horizontal |0-2| and |1-0| -> mean 1.5
    grid = torch.tensor([[[[2.0, 0.0], [2.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]]])
    torch.testing.assert_close(
        kim_continuity_regulariser(grid), torch.tensor(1.5)
    )


@pytest.mark.parametrize('fs_mode', ['gram', 'kim2020'])
def test_module_weights_and_gradients_reach_only_the_fused_cue(fs_mode):
    loss = MODELS.build(
        dict(type='IL2VsegFeatureSimilarityLoss', fs_mode=fs_mode)
    )
    torch.manual_seed(0)
    fused = torch.rand(2, 3, 4, 5, requires_grad=True)
    codes = torch.randn(2, 6, 4, 5, requires_grad=True)
    colours = torch.rand(2, 3, 4, 5, requires_grad=True)
    losses = loss(fused, codes, colours)
    assert set(losses) == {'loss_fs', 'loss_reg'}
    sum(losses.values()).backward()
    assert fused.grad.abs().sum() > 0
    assert codes.grad is None and colours.grad is None
    unweighted = MODELS.build(
        dict(
            type='IL2VsegFeatureSimilarityLoss',
            fs_mode=fs_mode,
            loss_weight_fs=1.0,
            loss_weight_reg=1.0,
        )
    )(fused, codes, colours)
    torch.testing.assert_close(losses['loss_fs'], 0.1 * unweighted['loss_fs'])
    torch.testing.assert_close(
        losses['loss_reg'], 0.05 * unweighted['loss_reg']
    )


def test_gram_loss_gradcheck():
    torch.manual_seed(0)
    fused = torch.randn(1, 2, 2, 3, dtype=torch.double, requires_grad=True)
    codes = torch.randn(1, 4, 2, 3, dtype=torch.double)
    colours = torch.rand(1, 3, 2, 3, dtype=torch.double)
    assert torch.autograd.gradcheck(
        lambda f: gram_feature_similarity_loss(f, codes, colours), (fused,)
    )
    assert torch.autograd.gradcheck(
        lambda f: cluster_balance_regulariser(f, 0.5), (fused,)
    )
    positive = fused.detach().abs().add(0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(cluster_balance_regulariser, (positive,))


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match='fs_mode'):
        MODELS.build(dict(type='IL2VsegFeatureSimilarityLoss', fs_mode='x'))


def test_probabilities_of_the_fused_cue():
    mix = torch.tensor([[[[0.6]], [[0.2]]]])  # sums to 0.8: renormalised
    torch.testing.assert_close(
        fused_probabilities(mix), torch.tensor([[[[0.75]], [[0.25]]]])
    )
    torch.testing.assert_close(
        fused_probabilities(mix, 0.1), torch.softmax(mix / 0.1, dim=1)
    )
    # a one-hot, balanced probability cue needs no temperature
    balanced = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])
    assert cluster_balance_regulariser(balanced) < 1e-12
    assert kim_feature_similarity_loss(balanced) < 1e-6
