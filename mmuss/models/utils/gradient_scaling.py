# Copyright (c) mmuss contributors. All rights reserved.
"""Gradient scaling and reversal (Ganin & Lempitsky, "Unsupervised Domain
Adaptation by Backpropagation", ICML 2015).

Identity in the forward pass; the backward pass multiplies the incoming
gradient by ``factor``. A negative factor is a gradient reversal layer: the
parameters behind it *ascend* the loss the rest of the model descends
(MSSSeg's adversarial StructAug curriculum).
"""

from typing import Tuple

import torch
from torch import Tensor


class _ScaleGradient(torch.autograd.Function):
    """``x`` forward, ``factor * grad`` backward."""

    @staticmethod
    def forward(ctx, tensor: Tensor, factor: float) -> Tensor:
        ctx.factor = factor
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tuple[Tensor, None]:
        return grad * ctx.factor, None


def scale_gradient(tensor: Tensor, factor: float) -> Tensor:
    """``tensor`` unchanged, with its gradient multiplied by ``factor`` in
    the backward pass (``factor < 0``: gradient reversal).

    Args:
        tensor (Tensor): Any tensor.
        factor (float): Multiplier of the gradient.

    Returns:
        Tensor: A tensor equal to ``tensor``.
    """
    return _ScaleGradient.apply(tensor, float(factor))
