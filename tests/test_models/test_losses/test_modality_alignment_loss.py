# Copyright (c) mmuss contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmuss.models.losses import (
    ModalityAlignmentLoss,
    coral_loss,
    mmd_loss,
    patchwise_cosine_loss,
)


def feature_maps(seed=0, shape=(2, 3, 4, 5)):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def test_coral_against_numpy_covariances():
    """Eq. 2: ||C_rgb - C_X||_F^2 / 4d^2 with numpy's unbiased covariance
    of the pooled location vectors."""
    rgb, other = feature_maps(0), feature_maps(1) * 2 + 1
    vectors = [
        m.permute(0, 2, 3, 1).reshape(-1, 3).numpy() for m in (rgb, other)
    ]
    difference = np.cov(vectors[0], rowvar=False) - np.cov(
        vectors[1], rowvar=False
    )
    expected = (difference**2).sum() / (4 * 3**2)
    assert coral_loss(rgb, other).item() == pytest.approx(expected)
    # a shift leaves the covariance (and the loss) unchanged
    assert coral_loss(rgb, rgb + 5).item() == pytest.approx(0, abs=1e-12)


def test_coral_hand_computed_two_points():
    """Two 1-d points per map: variance (a-b)^2/2; d = 1."""
    rgb = torch.tensor([0.0, 2.0]).view(2, 1, 1, 1)
    other = torch.tensor([0.0, 4.0]).view(2, 1, 1, 1)
    # variances 2 and 8 -> (2 - 8)^2 / 4
    assert coral_loss(rgb, other).item() == pytest.approx(9.0)


def brute_force_mmd(first, second, bandwidths):
    def kernel(x, y):
        squared = sum((a - b) ** 2 for a, b in zip(x, y))
        return sum(math.exp(-squared / (2 * s**2)) for s in bandwidths)

    def mean_kernel(xs, ys):
        return sum(kernel(x, y) for x in xs for y in ys) / (len(xs) * len(ys))

    return (
        mean_kernel(first, first)
        + mean_kernel(second, second)
        - 2 * mean_kernel(first, second)
    )


def test_mmd_against_brute_force_loops():
    """Eq. 3 with the documented multi-bandwidth Gaussian kernel, by
    Python loops over all pairs."""
    rgb, other = feature_maps(0), feature_maps(1) + 0.5
    first = rgb.permute(0, 2, 3, 1).reshape(-1, 3).tolist()
    second = other.permute(0, 2, 3, 1).reshape(-1, 3).tolist()
    pooled = first + second
    mean_squared = (
        sum(
            sum((a - b) ** 2 for a, b in zip(x, y))
            for x in pooled
            for y in pooled
        )
        / len(pooled) ** 2
    )
    multipliers = (0.5, 1.0, 2.0)
    bandwidths = [m * math.sqrt(mean_squared) for m in multipliers]
    expected = brute_force_mmd(first, second, bandwidths)
    actual = mmd_loss(rgb, other, multipliers, max_samples=None)
    assert actual.item() == pytest.approx(expected, rel=1e-9)
    assert expected > 0
    same = mmd_loss(rgb, rgb.clone(), multipliers, max_samples=None)
    assert same.item() == pytest.approx(0, abs=1e-12)


def test_mmd_subsamples_at_most_max_samples():
    rgb, other = feature_maps(0, (4, 3, 8, 8)), feature_maps(1, (4, 3, 8, 8))
    generator = torch.Generator().manual_seed(0)
    value = mmd_loss(rgb, other, max_samples=16, generator=generator)
    assert torch.isfinite(value)


def test_cosine_hand_computed():
    """Eq. 4 at each location: parallel 0, orthogonal 1, opposite 2."""
    rgb = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]).T.reshape(
        1, 2, 1, 3
    )
    other = torch.tensor([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]).T.reshape(
        1, 2, 1, 3
    )
    assert patchwise_cosine_loss(rgb, other).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match='aligned maps'):
        patchwise_cosine_loss(rgb, other[..., :2])


@pytest.mark.parametrize('mode', ['coral', 'mmd', 'cosine'])
def test_alignment_loss_gradient_reaches_the_projection(mode):
    rgb = feature_maps(0).float()
    projected = feature_maps(1).float().requires_grad_()
    loss = ModalityAlignmentLoss(mode=mode, loss_weight=2.0)
    losses = loss(rgb, {'depth': projected, 'thermal': projected * 0.5})
    expected = 2.0 * (losses['align_depth'] + losses['align_thermal'])
    torch.testing.assert_close(losses['loss_align'].detach(), expected)
    losses['loss_align'].backward()
    assert projected.grad.abs().sum() > 0


def test_alignment_loss_rejects_unknown_mode():
    with pytest.raises(ValueError, match="'kl'"):
        ModalityAlignmentLoss(mode='kl')
