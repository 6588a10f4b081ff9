# Copyright (c) mmuss contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.losses import (
    DS2DLAffinityLoss,
    all_pairs_mining_loss,
    pair_classification_loss,
    pairwise_soft_label,
    reversed_directional_mining_loss,
)


def softplus(x):
    return math.log(1 + math.exp(x))


def test_eq1_pair_classification_hand_computed():
    similarity = torch.tensor([0.5, -0.2])
    label = torch.tensor([1.0, 0.25])
    loss = pair_classification_loss(similarity, label, bias=0.1)
    expected = torch.tensor(
        [softplus(-0.6), 0.25 * softplus(0.1) + 0.75 * softplus(-0.1)]
    )
    torch.testing.assert_close(loss, expected)


def test_eq2_soft_label_is_dot_product_of_label_features():
    a = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    b = torch.tensor([[0.2, 0.3, 0.5]])
    y = pairwise_soft_label(a, b)
    torch.testing.assert_close(y, torch.tensor([[0.25], [0.2]]))
    one_hot = torch.eye(3)
    assert torch.equal(pairwise_soft_label(one_hot, one_hot), torch.eye(3))


def test_eq3_hand_computed():
    similarity = torch.tensor([0.4, 0.4])
    label = torch.tensor([1.0, 0.0])
    loss = reversed_directional_mining_loss(similarity, label, 0.2, r=2.0)
    expected = torch.tensor([softplus(-0.6 / 2.0), softplus(2.0 * 0.6)])
    torch.testing.assert_close(loss, expected)


def test_eq3_with_r_one_is_eq1():
    torch.manual_seed(0)
    similarity = torch.rand(5, 7) * 2 - 1
    label = torch.rand(5, 7)
    bias = torch.tensor(-0.3)
    torch.testing.assert_close(
        reversed_directional_mining_loss(similarity, label, bias, r=1.0),
        pair_classification_loss(similarity, label, bias),
    )


def test_eq3_gradients_are_the_papers():
    """dQ1/dt = -(1/r) sigma(-t/r), dQ2/dt = r sigma(r t) (App. A.3)."""
    r = 2.22
    t = torch.linspace(-1.5, 1.5, 7, dtype=torch.float64, requires_grad=True)
    ones, zeros = torch.ones_like(t), torch.zeros_like(t)
    (grad_q1,) = torch.autograd.grad(
        reversed_directional_mining_loss(t, ones, 0.0, r).sum(), t
    )
    (grad_q2,) = torch.autograd.grad(
        reversed_directional_mining_loss(t, zeros, 0.0, r).sum(), t
    )
    t = t.detach()
    torch.testing.assert_close(grad_q1, -torch.sigmoid(-t / r) / r)
    torch.testing.assert_close(grad_q2, r * torch.sigmoid(r * t))


def test_eq3_gradcheck():
    torch.manual_seed(0)
    similarity = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    label = torch.rand(3, 4, dtype=torch.float64)
    bias = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda s, b: reversed_directional_mining_loss(s, label, b, 2.1),
        (similarity, bias),
    )


def naive_all_pairs(codes_a, labels_a, codes_b, labels_b, bias, r, diag):
    total, count = 0.0, 0
    for b in range(codes_a.shape[0]):
        for i in range(codes_a.shape[1]):
            for j in range(codes_b.shape[1]):
                if diag and i == j:
                    continue
                s = float(codes_a[b, i] @ codes_b[b, j])
                y = float(labels_a[b, i] @ labels_b[b, j])
                t = s + bias
                total += y * softplus(-t / r) + (1 - y) * softplus(r * t)
                count += 1
    return total / count


@pytest.mark.parametrize('diag', [True, False])
def test_all_pairs_mean_matches_loop(diag):
    torch.manual_seed(0)
    codes = F.normalize(torch.randn(2, 5, 4, dtype=torch.float64), dim=2)
    other = F.normalize(torch.randn(2, 5, 4, dtype=torch.float64), dim=2)
    labels = torch.softmax(torch.randn(2, 5, 3, dtype=torch.float64), 2)
    labels_o = torch.softmax(torch.randn(2, 5, 3, dtype=torch.float64), 2)
    bias = torch.tensor(0.2, dtype=torch.float64)
    target_b = codes if diag else other
    target_l = labels if diag else labels_o
    loss = all_pairs_mining_loss(
        codes, labels, target_b, target_l, bias, 2.1, exclude_diagonal=diag
    )
    expected = naive_all_pairs(
        codes, labels, target_b, target_l, 0.2, 2.1, diag
    )
    assert loss.item() == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize('diag', [True, False])
def test_chunked_equals_unchunked_values_and_gradients(diag):
    torch.manual_seed(0)
    base = torch.randn(3, 11, 6, dtype=torch.float64)
    labels = torch.softmax(torch.randn(3, 11, 4, dtype=torch.float64), 2)
    results = []
    for chunk in (None, 4):
        x = base.clone().requires_grad_()
        bias = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
        codes = F.normalize(x, dim=2)
        other = codes if diag else codes.flip(0)
        other_l = labels if diag else labels.flip(0)
        loss = all_pairs_mining_loss(
            codes, labels, other, other_l, bias, 2.1, diag, chunk
        )
        loss.backward()
        results.append((loss.detach(), x.grad, bias.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b)


def test_chunked_all_pairs_gradcheck():
    torch.manual_seed(0)
    codes = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.softmax(torch.randn(2, 5, 3, dtype=torch.float64), 2)
    bias = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)

    def fn(c, b):
        return all_pairs_mining_loss(
            c, labels, c, labels, b, 2.1, exclude_diagonal=True, chunk_size=2
        )

    assert torch.autograd.gradcheck(fn, (codes, bias))


def test_module_terms_and_switches():
    torch.manual_seed(0)
    codes = torch.randn(3, 4, 2, 3)
    labels = torch.softmax(torch.randn(3, 5, 2, 3), 1)
    perm = torch.tensor([1, 2, 0])
    loss = DS2DLAffinityLoss(r=2.1, chunk_size=None)
    out = loss(codes, labels, perm=perm)
    x = F.normalize(codes.flatten(2), dim=1).transpose(1, 2)
    lab = labels.flatten(2).transpose(1, 2)
    zero = torch.tensor(0.0)
    intra = all_pairs_mining_loss(x, lab, x, lab, zero, 2.1, True)
    cross = all_pairs_mining_loss(x, lab, x[perm], lab[perm], zero, 2.1)
    torch.testing.assert_close(out['pair_intra'], intra)
    torch.testing.assert_close(out['pair_cross'], cross)
    torch.testing.assert_close(out['loss_pair'].detach(), intra + cross)

    no_cross = DS2DLAffinityLoss(r=2.1, cross_pairs=False)(codes, labels)
    assert 'pair_cross' not in no_cross
    torch.testing.assert_close(no_cross['loss_pair'].detach(), intra)
    no_intra = DS2DLAffinityLoss(r=2.1, intra_pairs=False)(
        codes, labels, perm=perm
    )
    assert 'pair_intra' not in no_intra
    torch.testing.assert_close(no_intra['loss_pair'].detach(), cross)


def test_module_gradients_reach_codes_and_bias_not_labels():
    codes = torch.randn(2, 4, 3, 3, requires_grad=True)
    labels = torch.softmax(torch.randn(2, 5, 3, 3), 1).requires_grad_()
    loss = DS2DLAffinityLoss()
    loss(codes, labels)['loss_pair'].backward()
    assert codes.grad.abs().sum() > 0
    assert loss.bias.grad is not None and loss.bias.grad != 0
    assert labels.grad is None


def test_single_image_skips_cross_pairs():
    out = DS2DLAffinityLoss()(torch.randn(1, 4, 2, 2), torch.rand(1, 3, 2, 2))
    assert 'pair_cross' not in out and 'pair_intra' in out


def test_rejects_non_positive_r():
    with pytest.raises(ValueError, match='r must be'):
        DS2DLAffinityLoss(r=0)


def test_eq1_gradcheck():
    torch.manual_seed(0)
    similarity = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    label = torch.rand(3, 4, dtype=torch.float64)
    bias = torch.tensor(-0.2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda s, b: pair_classification_loss(s, label, b), (similarity, bias)
    )
