# Copyright (c) mmuss contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.losses import (
    DS2DLClusterLoss,
    local_to_global_loss,
    orthogonality_loss,
    self_labelling_loss,
    sinkhorn_codes,
)
from mmuss.models.utils import EMAPrototypes


def test_sinkhorn_codes_are_distributions_after_three_iterations():
    torch.manual_seed(0)
    scores = torch.rand(2, 4, 12) * 2 - 1
    q = sinkhorn_codes(scores, epsilon=0.1, num_iters=3)
    assert q.shape == scores.shape and q.dtype == scores.dtype
    torch.testing.assert_close(q.sum(1), torch.ones(2, 12))
    assert (q >= 0).all()


def test_sinkhorn_per_image_marginals_converge_to_equipartition():
    torch.manual_seed(0)
    scores = torch.rand(3, 4, 12) * 2 - 1
    q = sinkhorn_codes(scores, epsilon=0.1, num_iters=200)
    # each image: every prototype gets N / C = 3 pixels' worth of mass
    torch.testing.assert_close(q.sum(2), torch.full((3, 4), 3.0))
    torch.testing.assert_close(q.sum(1), torch.ones(3, 12))


def test_sinkhorn_batch_level_marginals():
    torch.manual_seed(0)
    scores = torch.rand(3, 4, 12) * 2 - 1
    scores[0] += torch.tensor([1.0, 0, 0, 0])[:, None]  # image 0 likes k=0
    q = sinkhorn_codes(scores, epsilon=0.1, num_iters=200, per_image=False)
    # equipartition over the batch (B N / C = 9 per prototype), not per image
    torch.testing.assert_close(q.sum((0, 2)), torch.full((4,), 9.0))
    torch.testing.assert_close(q.sum(1), torch.ones(3, 12))
    assert not torch.allclose(q.sum(2), torch.full((3, 4), 3.0), atol=0.1)


def test_sinkhorn_one_iteration_hand_computed():
    scores = torch.tensor([[[0.1, 0.3], [0.2, 0.0]]])  # C = 2, N = 2
    q = sinkhorn_codes(scores, epsilon=1.0, num_iters=1)
    e = scores[0].exp()
    e = e / e.sum(1, keepdim=True) * 1.0  # rows to N / C = 1
    e = e / e.sum(0, keepdim=True)  # columns to 1
    torch.testing.assert_close(q[0], e)


def test_sinkhorn_is_stable_at_small_epsilon_and_ignores_gradient():
    scores = torch.tensor([[[1.0, -1.0, 0.5], [-1.0, 1.0, 0.2]]])
    scores.requires_grad_()
    q = sinkhorn_codes(scores, epsilon=1e-3, num_iters=3)
    assert torch.isfinite(q).all() and not q.requires_grad
    q16 = sinkhorn_codes(scores.detach().half(), epsilon=0.05)
    assert q16.dtype == torch.float16 and torch.isfinite(q16).all()


def test_eq4_hand_computed():
    logits = torch.tensor([[1.0, 0.0]]).t()[None]  # (1, 2, 1)
    target = torch.tensor([[0.75, 0.25]]).t()[None]
    log_p = torch.log_softmax(torch.tensor([1.0, 0.0]), 0)
    expected = -(0.75 * log_p[0] + 0.25 * log_p[1])
    torch.testing.assert_close(
        local_to_global_loss(logits, target), expected.reshape(1, 1)
    )


def test_eq4_gradcheck():
    logits = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    target = torch.softmax(torch.randn(2, 3, 4, dtype=torch.float64), 1)
    assert torch.autograd.gradcheck(
        lambda x: local_to_global_loss(x, target), (logits,)
    )


def test_eq6_hand_computed():
    c = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    # Gram [[1, .6], [.6, 1]] -> |G - I| sums to 1.2
    assert orthogonality_loss(c).item() == pytest.approx(1.2)
    assert orthogonality_loss(c, 'mean').item() == pytest.approx(0.3)
    assert orthogonality_loss(torch.eye(3)).item() == 0


def test_eq6_gradcheck():
    c = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda p: orthogonality_loss(F.normalize(p, dim=1)), (c,)
    )


def test_eq7_hand_computed():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]]).t()[None]  # 2 pixels
    p = torch.softmax(logits[0], 0)
    expected = -(p[0, 0].log() + p[1, 1].log())
    assert self_labelling_loss(logits, 'sum').item() == pytest.approx(
        expected.item()
    )
    assert self_labelling_loss(logits).item() == pytest.approx(
        expected.item() / 2
    )


def test_eq7_gradcheck():
    logits = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(self_labelling_loss, (logits,))


def test_cluster_loss_terms_and_routing():
    torch.manual_seed(0)
    protos = EMAPrototypes(4, 3)
    with torch.no_grad():
        protos.teacher.add_(0.1 * torch.randn_like(protos.teacher))
    codes = torch.randn(2, 4, 3, 3, requires_grad=True)
    loss = DS2DLClusterLoss()
    out = loss(codes, protos)
    assert set(out) == {'loss_l2g', 'loss_orth', 'loss_data'}
    local = protos.student_similarity(codes) / 0.1
    target = loss.global_codes(codes, protos)
    torch.testing.assert_close(
        out['loss_l2g'], local_to_global_loss(local, target).mean()
    )
    out['loss_l2g'].backward(retain_graph=True)
    assert codes.grad.abs().sum() > 0 and protos.student.grad.abs().sum() > 0
    assert protos.teacher.grad is None
    codes.grad = None
    protos.student.grad = None
    out['loss_orth'].backward()
    assert codes.grad is None and protos.student.grad.abs().sum() > 0


def test_cluster_loss_zero_weights_drop_terms():
    protos = EMAPrototypes(4, 3)
    out = DS2DLClusterLoss(
        loss_l2g_weight=0, loss_orth_weight=0, loss_data_weight=2.0
    )(torch.randn(2, 4, 2, 2), protos)
    assert set(out) == {'loss_data'}


def test_global_pseudo_labels_are_smooseg_data_term():
    protos = EMAPrototypes(4, 3)
    codes = torch.randn(2, 4, 3, 3, requires_grad=True)
    out = DS2DLClusterLoss(
        pseudo_label_source='global', loss_l2g_weight=0, loss_orth_weight=0
    )(codes, protos)
    expected = F.cross_entropy(
        protos.student_similarity(codes.detach()),
        protos.teacher_similarity(codes).argmax(1),
    )
    torch.testing.assert_close(out['loss_data'], expected)
    out['loss_data'].backward()
    assert codes.grad is None


def test_sinkhorn_targets_follow_equipartition_in_loss():
    protos = EMAPrototypes(4, 3)
    codes = torch.randn(2, 4, 3, 4)
    q = DS2DLClusterLoss(sinkhorn_iters=100).global_codes(codes, protos)
    torch.testing.assert_close(q.sum((2, 3)), torch.full((2, 3), 4.0))
    assert math.isclose(q.sum().item(), 24.0, rel_tol=1e-5)
