# Copyright (c) mmuss contributors. All rights reserved.
"""Gradient scaling / reversal."""

import pytest
import torch

from mmuss.models.utils import scale_gradient


@pytest.mark.parametrize('factor', [-1.0, 0.5, 0.0])
def test_identity_forward_scaled_backward(factor):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = scale_gradient(x, factor)
    torch.testing.assert_close(y, x.detach())
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    torch.testing.assert_close(x.grad, factor * torch.tensor([1.0, 2.0, 3.0]))
