# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn.functional as F

from mmuss.models.probes import LinearProbe


def test_loss_is_cross_entropy_on_upsampled_logits():
    torch.manual_seed(0)
    probe = LinearProbe(in_channels=4, num_classes=3)
    codes = torch.randn(2, 4, 2, 2)
    labels = torch.randint(0, 3, (2, 4, 4))
    labels[0, 0] = 255
    logits = F.interpolate(probe(codes), size=(4, 4), mode='bilinear')
    valid = labels != 255
    manual = (
        -F.log_softmax(logits, 1)
        .gather(1, labels.clamp(max=2)[:, None])[:, 0][valid]
        .mean()
    )
    torch.testing.assert_close(probe.loss(codes, labels), manual)


def test_loss_with_only_ignored_pixels_is_zero_with_graph():
    probe = LinearProbe(in_channels=4, num_classes=3)
    loss = probe.loss(torch.randn(1, 4, 2, 2), torch.full((1, 2, 2), 255))
    assert loss.item() == 0
    loss.backward()
    assert probe.classifier.weight.grad is not None
