# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn.functional as F

from mmuss.models.losses import (
    class_confidence_weights,
    mask_mode_labels,
    primaps_focal_loss,
)


def test_focal_loss_matches_written_out_formula():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    labels = torch.randint(0, 3, (2, 4, 4))
    labels[0, 0] = 255
    probs = logits.softmax(1)
    chi = probs.mean(dim=(0, 2, 3))
    total = 0.0
    for b in range(2):
        for i in range(4):
            for j in range(4):
                k = int(labels[b, i, j])
                if k != 255:
                    total -= (1 - chi[k]) ** 2 * torch.log(probs[b, k, i, j])
    expected = total / labels.numel()
    torch.testing.assert_close(primaps_focal_loss(logits, labels), expected)
    torch.testing.assert_close(class_confidence_weights(probs), (1 - chi) ** 2)


def test_weights_are_constants_in_the_gradient():
    logits = torch.randn(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([[[0, 1], [2, 0]]])
    weights = class_confidence_weights(logits.softmax(1))

    def weighted_ce(x):
        return F.cross_entropy(
            x, labels, weight=weights, reduction='none'
        ).mean()

    primaps_focal_loss(logits, labels).backward()
    grad = logits.grad.clone()
    logits.grad = None
    weighted_ce(logits).backward()
    # the gradient is that of a cross-entropy with constant weights
    torch.testing.assert_close(grad, logits.grad)


def test_mask_mode_labels_hand_computed():
    masks = torch.tensor([[[1, 1, 2], [1, 2, 255]]])
    prediction = torch.tensor([[[4, 4, 0], [3, 0, 4]]])
    labels = mask_mode_labels(masks, prediction, num_classes=5)
    assert labels.tolist() == [[[4, 4, 0], [4, 0, 255]]]
    # masks are per image: the same id in another image is independent
    masks2 = torch.stack([masks[0], masks[0]])
    prediction2 = torch.stack([prediction[0], torch.full((2, 3), 2)])
    labels2 = mask_mode_labels(masks2, prediction2, num_classes=5)
    assert labels2[1].tolist() == [[2, 2, 2], [2, 2, 255]]
