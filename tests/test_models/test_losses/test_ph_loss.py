# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmuss.models.losses import (
    PHLoss,
    matched_pair_loss,
    unmatched_pair_loss,
)
from mmuss.models.losses.ph_loss import shutdown_executors
from mmuss.models.utils import superlevel_diagrams

# class 0: two peaks (0.9 and 0.6) joined by a ridge whose lowest pixel,
# (0, 2), is 0.3; class 1 is the rest
TWO_PEAKS = torch.tensor(
    [
        [0.9, 0.35, 0.3, 0.4, 0.1],
        [0.8, 0.1, 0.1, 0.6, 0.1],
        [0.1, 0.1, 0.1, 0.1, 0.1],
    ],
    dtype=torch.float64,
)


def two_class_probs(class0):
    return torch.stack([class0, 1 - class0])[None].requires_grad_()


def one_component_reference():
    """Pseudo label: class 0 is the left peak only, class 1 elsewhere."""
    labels = torch.ones(1, 3, 5, dtype=torch.long)
    labels[0, :2, 0] = 0
    return labels


def scene_labels():
    """(1, 8, 9) labels: a ring of class 0 with a hole, two blobs of
    class 1, class 2 elsewhere."""
    labels = torch.full((1, 8, 9), 2, dtype=torch.long)
    labels[0, 1:6, 1:6] = 0
    labels[0, 3, 3] = 2
    labels[0, 1:3, 7] = 1
    labels[0, 6:8, 7:9] = 1
    return labels


def test_equations_9_and_10():
    birth = torch.tensor([0.9, 0.6])
    death = torch.tensor([0.1, 0.3])
    torch.testing.assert_close(
        matched_pair_loss(birth, death), torch.tensor([0.02, 0.25])
    )
    torch.testing.assert_close(
        unmatched_pair_loss(birth, death), torch.tensor([0.64, 0.09])
    )


def test_one_spurious_component_hand_computed():
    probs = two_class_probs(TWO_PEAKS)
    loss = PHLoss(channels=[0], loss_weight=2.0)
    value = loss(probs, one_component_reference())
    # matched essential (0.9, 0): (1 - 0.9)^2 + 0^2 (Eq. 9);
    # spurious (0.6, 0.3): (0.6 - 0.3)^2 (Eq. 10); weight 2
    assert value.item() == pytest.approx(2 * (0.01 + 0.09))
    value.backward()
    expected = torch.zeros_like(probs)
    expected[0, 0, 0, 0] = 2 * -2 * (1 - 0.9)  # birth of the signal
    expected[0, 0, 1, 3] = 2 * 2 * (0.6 - 0.3)  # birth of the noise
    expected[0, 0, 0, 2] = 2 * -2 * (0.6 - 0.3)  # death of the noise
    torch.testing.assert_close(probs.grad, expected)


def test_zero_when_prediction_is_the_reference():
    labels = scene_labels()
    probs = F.one_hot(labels, 3).permute(0, 3, 1, 2).double()
    probs.requires_grad_()
    for channels in ('present', 'all'):
        value = PHLoss(channels=channels)(probs, labels)
        assert value.item() == 0.0
        value.backward()
        assert probs.grad.abs().sum() == 0


def test_gradient_exactly_at_critical_pixels():
    torch.manual_seed(0)
    logits = F.interpolate(
        torch.randn(1, 3, 3, 4, dtype=torch.float64) * 3, size=(8, 9)
    )
    probs = logits.softmax(1).requires_grad_()
    labels = scene_labels()
    PHLoss(channels='all')(probs, labels).backward()
    for k in range(3):
        diagrams = superlevel_diagrams(probs[0, k].detach().numpy())
        critical = np.zeros(8 * 9, dtype=bool)
        for diagram in diagrams.values():
            pixels = diagram.pixels[diagram.pixels >= 0]
            critical[pixels] = True
        nonzero = (probs.grad[0, k] != 0).reshape(-1).numpy()
        np.testing.assert_array_equal(nonzero, critical)
        assert critical.sum() >= 2


def test_finite_differences_at_critical_pixels():
    probs = torch.from_numpy(np.random.default_rng(1).random((1, 2, 7, 6)))
    labels = torch.from_numpy(
        np.random.default_rng(2).integers(0, 2, (1, 7, 6))
    )
    loss = PHLoss(channels='all')
    probs.requires_grad_()
    loss(probs, labels).backward()
    critical = torch.nonzero(probs.grad.reshape(-1)).reshape(-1)
    assert len(critical) > 4
    flat = probs.detach().reshape(-1)
    eps = 1e-7  # well below the smallest gap between two values
    assert torch.diff(flat.sort().values).min() > 10 * eps
    for index in [*critical[:4].tolist(), int(probs.grad.abs().argmin())]:
        shifted = []
        for sign in (1, -1):
            moved = flat.clone()
            moved[index] += sign * eps
            shifted.append(loss(moved.reshape(probs.shape), labels).item())
        numeric = (shifted[0] - shifted[1]) / (2 * eps)
        analytic = probs.grad.reshape(-1)[index].item()
        assert numeric == pytest.approx(analytic, rel=1e-5, abs=1e-7)


def test_homology_dims_select_the_terms():
    ring = torch.tensor(
        [
            [0.1, 0.1, 0.1, 0.1, 0.1],
            [0.1, 0.9, 0.8, 0.7, 0.1],
            [0.1, 0.6, 0.3, 0.7, 0.1],
            [0.1, 0.7, 0.7, 0.7, 0.1],
        ],
        dtype=torch.float64,
    )
    disc = torch.ones(1, 4, 5, dtype=torch.long)
    disc[0, 1:, 1:4] = 0  # class 0 without a hole
    probs = two_class_probs(ring)
    both = PHLoss(channels=[0])(probs, disc)
    h0 = PHLoss(channels=[0], homology_dims=(0,))(probs, disc)
    h1 = PHLoss(channels=[0], homology_dims=[1])(probs, disc)
    assert h0.item() == pytest.approx(0.01)  # (1 - 0.9)^2
    assert h1.item() == pytest.approx(0.09)  # spurious hole (0.6 - 0.3)^2
    assert both.item() == pytest.approx(0.1)


def test_channel_selection():
    labels = torch.tensor([[0, 0, 0, 0, 0], [1, 1, 1, 3, 255]])
    assert PHLoss('present').selected_channels(labels, 5, 255) == [0, 1, 3]
    assert PHLoss(2).selected_channels(labels, 5, 255) == [0, 1]
    assert PHLoss('all').selected_channels(labels, 5, 255) == [0, 1, 2, 3, 4]
    assert PHLoss([4, 2]).selected_channels(labels, 5, 255) == [4, 2]
    with pytest.raises(ValueError, match='class 7'):
        PHLoss([7]).selected_channels(labels, 5, 255)


def test_reduction_mean_over_maps_and_absent_class():
    labels = scene_labels()
    labels[labels == 1] = 2  # class 1 absent
    probs = torch.rand(1, 3, 8, 9, dtype=torch.float64)
    total = PHLoss('all', reduction='sum')(probs, labels)
    mean = PHLoss('all')(probs, labels)
    assert mean.item() == pytest.approx(total.item() / 3)
    # an absent class has no reference structure: every pair is noise
    absent = PHLoss([1], reduction='sum')(probs, labels)
    diagrams = superlevel_diagrams(probs[0, 1].numpy())
    expected = sum(
        ((d.values[:, 0] - d.values[:, 1]) ** 2).sum()
        for d in diagrams.values()
    )
    assert absent.item() == pytest.approx(expected)
    present = PHLoss('present', reduction='sum')(probs, labels)
    assert total.item() == pytest.approx(present.item() + absent.item())


def test_ignored_pixels_are_background_without_gradient():
    labels = scene_labels()
    probs = F.one_hot(labels, 3).permute(0, 3, 1, 2).double()
    labels[0, 6:, :4] = 255
    probs[0, :, 6:, :4] = 0.0
    probs[0, 1, 6:, 1] = 0.8  # a blob of class 1 where nothing is known
    probs.requires_grad_()
    value = PHLoss()(probs, labels)
    assert value.item() == 0.0
    value.backward()
    assert probs.grad[0, :, 6:, :4].abs().sum() == 0


def test_resolution_options():
    torch.manual_seed(1)
    probs = torch.rand(2, 3, 6, 7, dtype=torch.float64)
    labels = torch.randint(0, 3, (2, 6, 7))
    expected = PHLoss()(probs, labels)
    # a 2x nearest-upsampled reference is read back exactly
    labels_up = labels.repeat_interleave(2, 1).repeat_interleave(2, 2)
    assert PHLoss()(probs, labels_up).item() == pytest.approx(expected.item())
    # 2x-upsampled probabilities, downsampled bilinearly by 2
    probs_up = probs.repeat_interleave(2, 2).repeat_interleave(2, 3)
    for loss in (PHLoss(downsample=2), PHLoss(size=(6, 7))):
        assert loss(probs_up, labels_up).item() == pytest.approx(
            expected.item()
        )
    assert PHLoss(downsample=2).target_size(29, 28) == (14, 14)
    assert PHLoss(size=5).target_size(29, 28) == (5, 5)


@pytest.mark.parametrize('parallel', ['thread', 'process'])
def test_workers_give_the_same_loss(parallel):
    torch.manual_seed(2)
    probs = torch.rand(3, 4, 10, 10, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 4, (3, 10, 10))
    serial = PHLoss('all')(probs, labels)
    (grad_serial,) = torch.autograd.grad(serial, probs)
    pooled = PHLoss('all', num_workers=2, parallel=parallel)(probs, labels)
    (grad_pooled,) = torch.autograd.grad(pooled, probs)
    shutdown_executors()
    assert pooled.item() == serial.item()
    torch.testing.assert_close(grad_pooled, grad_serial)


def test_registered_and_scalar():
    loss = MODELS.build(dict(type='PHLoss', channels=2, loss_name='loss_t'))
    assert isinstance(loss, PHLoss) and loss.loss_name == 'loss_t'
    value = loss(torch.rand(2, 3, 5, 5), torch.randint(0, 3, (2, 5, 5)))
    assert value.ndim == 0
    # nothing to evaluate: a zero that still backpropagates
    probs = torch.rand(1, 3, 4, 4, requires_grad=True)
    empty = loss(probs, torch.full((1, 4, 4), 255))
    assert empty.item() == 0.0
    empty.backward()


@pytest.mark.parametrize(
    'probs, labels, message',
    [
        (torch.rand(3, 4, 4), torch.zeros(1, 4, 4), r'\(B, K, H, W\)'),
        (torch.rand(2, 3, 4, 4), torch.zeros(1, 4, 4), 'B = 2'),
        (torch.rand(1, 3, 4, 4), torch.zeros(1, 4, 4), 'torch.float32'),
        (torch.full((1, 3, 4, 4), float('nan')), None, 'non-finite'),
        (torch.full((1, 3, 4, 4), 2.0), None, r'\[2, 2\]'),
        (torch.rand(1, 3, 4, 4), torch.full((1, 4, 4), 5), 'label 5'),
    ],
)
def test_bad_inputs_are_named(probs, labels, message):
    if labels is None:
        labels = torch.zeros(1, 4, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=message):
        PHLoss()(probs, labels)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(channels='most'), "'most'"),
        (dict(channels=0), 'k >= 1'),
        (dict(channels=[]), 'non-empty'),
        (dict(size=8, downsample=2), 'not both'),
        (dict(downsample=0.5), '0.5'),
        (dict(homology_dims=(2,)), r'\(2,\)'),
        (dict(reduction='none'), "'none'"),
        (dict(parallel='gpu'), "'gpu'"),
        (dict(num_workers=-1), '-1'),
        (dict(essential_death='inf'), "'inf'"),
    ],
)
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PHLoss(**kwargs)
