# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn.functional as F

from mmuss.models.necks import (
    CrossModalHarmonization,
    ModalitySpecificNetwork,
)


def test_msn_is_bottleneck_conv_relu_conv_by_hand():
    torch.manual_seed(0)
    msn = ModalitySpecificNetwork(6)
    first, second = msn.layers[0], msn.layers[2]
    assert (first.in_channels, first.out_channels) == (6, 3)
    assert (second.in_channels, second.out_channels) == (3, 6)
    feats = torch.randn(2, 6, 4, 5)
    hidden = F.relu(F.conv2d(feats, first.weight, first.bias))
    expected = F.conv2d(hidden, second.weight, second.bias)
    torch.testing.assert_close(msn(feats), expected)
    residual = ModalitySpecificNetwork(6, residual=True)
    residual.load_state_dict(msn.state_dict())
    torch.testing.assert_close(residual(feats), expected + feats)


def test_cmh_keeps_the_code_shape_and_passes_gradient_to_the_code():
    torch.manual_seed(0)
    cmh = CrossModalHarmonization(5)
    codes = torch.randn(2, 5, 3, 3, requires_grad=True)
    proxy = cmh(codes)
    assert proxy.shape == codes.shape
    first, second = cmh.layers[0], cmh.layers[2]
    expected = F.conv2d(
        F.relu(F.conv2d(codes, first.weight, first.bias)),
        second.weight,
        second.bias,
    )
    torch.testing.assert_close(proxy, expected)
    proxy.sum().backward()  # Eq. 8: the gradient reaches S through Phi
    assert codes.grad.abs().sum() > 0
