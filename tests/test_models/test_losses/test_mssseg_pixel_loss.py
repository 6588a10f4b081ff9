# Copyright (c) mmuss contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.losses import (
    MSSSegPixelLoss,
    distillation_cross_entropy,
    pixel_prototype_infonce,
)


def brute_force_infonce(embeddings, prototypes, labels, tau, ignore=255):
    total, count = 0.0, 0
    batch, _, height, width = embeddings.shape
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                label = int(labels[b, i, j])
                if label == ignore:
                    continue
                z = embeddings[b, :, i, j]
                sims = [
                    float(F.cosine_similarity(z, c, dim=0)) / tau
                    for c in prototypes
                ]
                denominator = sum(math.exp(s) for s in sims)
                total += -(sims[label] - math.log(denominator))
                count += 1
    return total / count


def test_infonce_equals_the_brute_force_formula_with_ignored_pixels():
    torch.manual_seed(0)
    embeddings = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    prototypes = torch.randn(4, 5, dtype=torch.float64)
    labels = torch.randint(0, 4, (2, 3, 4))
    labels[0, 0, :2] = 255
    loss = pixel_prototype_infonce(embeddings, prototypes, labels, 0.1)
    expected = brute_force_infonce(embeddings, prototypes, labels, 0.1)
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_infonce_is_low_at_the_prototype_and_pulls_towards_it():
    prototypes = torch.eye(3)
    labels = torch.zeros(1, 1, 1, dtype=torch.long)
    at_positive = prototypes[0].view(1, 3, 1, 1)
    at_negative = prototypes[1].view(1, 3, 1, 1)
    low = pixel_prototype_infonce(at_positive, prototypes, labels, 0.1)
    high = pixel_prototype_infonce(at_negative, prototypes, labels, 0.1)
    assert low < 1e-4 < 10 < high
    z = torch.tensor([[0.5, 0.5, 0.0]]).view(1, 3, 1, 1).requires_grad_()
    pixel_prototype_infonce(z, prototypes, labels, 0.1).backward()
    assert z.grad[0, 0, 0, 0] < 0 < z.grad[0, 1, 0, 0]  # descent: +x, -y


def test_distillation_is_cross_entropy_to_detached_labels():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 3, 3, requires_grad=True)
    labels = torch.randint(0, 4, (2, 3, 3))
    loss = distillation_cross_entropy(logits, labels)
    torch.testing.assert_close(loss, F.cross_entropy(logits, labels))
    loss.backward()
    assert logits.grad.abs().sum() > 0


def test_module_weights_and_empty_labels():
    torch.manual_seed(0)
    embeddings = torch.randn(1, 5, 2, 2, requires_grad=True)
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    prototypes = torch.randn(3, 5)
    labels = torch.randint(0, 3, (1, 2, 2))
    full = MSSSegPixelLoss()(embeddings, logits, prototypes, labels)
    half = MSSSegPixelLoss(loss_cont_weight=0.5, loss_distill_weight=0)(
        embeddings, logits, prototypes, labels
    )
    assert set(full) == {'loss_cont', 'loss_distill'}
    assert set(half) == {'loss_cont'}
    torch.testing.assert_close(half['loss_cont'], full['loss_cont'] / 2)
    empty = torch.full_like(labels, 255)
    zero = MSSSegPixelLoss()(embeddings, logits, prototypes, empty)
    assert all(v.item() == 0 for v in zero.values())
    with pytest.raises(ValueError, match='temperature'):
        MSSSegPixelLoss(temperature=0)
    with pytest.raises(ValueError, match='channels'):
        pixel_prototype_infonce(embeddings, torch.randn(3, 4), labels)
