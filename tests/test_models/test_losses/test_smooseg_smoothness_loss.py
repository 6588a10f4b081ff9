# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmuss.models.losses import SmooSegSmoothnessLoss


def reference_energy(f1, f2, p1, p2, shift):
    """(F^SC - b) (1 - cos(p_i, p_j)) over all patch pairs, point by point,
    with STEGO's upstream centring."""
    batch, _, height, width = f1.shape
    fd = torch.zeros(batch, height, width, height, width, dtype=f1.dtype)
    pc = torch.zeros_like(fd)
    for n in range(batch):
        for h in range(height):
            for w in range(width):
                for i in range(height):
                    for j in range(width):
                        fd[n, h, w, i, j] = F.cosine_similarity(
                            f1[n, :, h, w], f2[n, :, i, j], dim=0
                        )
                        pc[n, h, w, i, j] = F.cosine_similarity(
                            p1[n, :, h, w], p2[n, :, i, j], dim=0
                        )
    old_mean = fd.mean()
    fd = fd - fd.mean(dim=(3, 4), keepdim=True)
    fd = fd - fd.mean() + old_mean
    return ((fd - shift) * (1 - pc)).mean()


def test_matches_pointwise_reference():
    torch.manual_seed(0)
    feats = torch.randn(3, 6, 3, 3, dtype=torch.float64)
    probs = torch.randn(3, 4, 3, 3, dtype=torch.float64).softmax(1)
    perm = torch.tensor([2, 0, 1])
    loss = SmooSegSmoothnessLoss(shift_self=-0.02, shift_rand=0.5)
    out = loss(feats, probs, perm)
    expected = reference_energy(
        feats, feats, probs, probs, -0.02
    ) + reference_energy(feats, feats[perm], probs, probs[perm], 0.5)
    torch.testing.assert_close(out['loss_smooth'], expected)


def test_gradient_to_probabilities_only_and_finite_differences():
    torch.manual_seed(1)
    feats = torch.randn(2, 6, 3, 3, dtype=torch.float64, requires_grad=True)
    logits = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    loss = SmooSegSmoothnessLoss()
    perm = torch.tensor([1, 0])

    def energy(logits_):
        return loss(feats, logits_.softmax(1), perm)['loss_smooth']

    energy(logits).backward()
    assert feats.grad is None and logits.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(energy, (logits,))


def test_batch_of_one():
    loss = SmooSegSmoothnessLoss()
    with pytest.raises(ValueError, match='at least 2 images'):
        loss(torch.randn(1, 4, 3, 3), torch.rand(1, 2, 3, 3))
    self_only = SmooSegSmoothnessLoss(weight_rand=0)
    assert 'smooth_rand' not in self_only(
        torch.randn(1, 4, 3, 3), torch.rand(1, 2, 3, 3)
    )
