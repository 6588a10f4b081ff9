# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's cross-modal alignment loss L_align (§3.2)."""

import math

import pytest
import torch
from mmseg.registry import MODELS
from torch.autograd import gradcheck

from mmuss.models.losses import DBCAlignmentLoss, cosine_alignment_loss


def test_hand_computed_cosine_distances():
    semantic = torch.tensor([[1.0, 0.0], [2.0, 2.0], [1.0, 0.0], [3.0, 4.0]])
    depth = torch.tensor([[0.0, 5.0], [1.0, 1.0], [-1.0, 0.0], [4.0, 3.0]])
    losses = cosine_alignment_loss(semantic, depth)
    assert losses.tolist() == pytest.approx(
        [1.0, 0.0, 2.0, 1 - 24 / 25], abs=1e-6
    )


def test_reductions_and_weight():
    semantic = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    depth = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    per_image = [1.0, 1 - 1 / math.sqrt(2)]
    mean = DBCAlignmentLoss(loss_weight=2.0)(semantic, depth)
    assert set(mean) == {'loss_align'}
    assert mean['loss_align'].item() == pytest.approx(sum(per_image))
    total = DBCAlignmentLoss(reduction='sum', loss_name='loss_x')(
        semantic, depth
    )
    assert total['loss_x'].item() == pytest.approx(sum(per_image))
    none = DBCAlignmentLoss(reduction='none')(semantic, depth)['loss_align']
    assert none.tolist() == pytest.approx(per_image)


def test_gradient_is_exact_and_reaches_both_vectors():
    semantic = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    depth = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    assert gradcheck(cosine_alignment_loss, (semantic, depth))
    DBCAlignmentLoss()(semantic, depth)['loss_align'].backward()
    assert semantic.grad.abs().sum() > 0 and depth.grad.abs().sum() > 0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r'\(2, 4\) and \(2, 3\)'):
        cosine_alignment_loss(torch.ones(2, 4), torch.ones(2, 3))
    with pytest.raises(ValueError, match="reduction must be one of .*'max'"):
        DBCAlignmentLoss(reduction='max')


def test_builds_from_the_registry():
    loss = MODELS.build(dict(type='DBCAlignmentLoss', loss_weight=0.5))
    assert isinstance(loss, DBCAlignmentLoss) and loss.loss_weight == 0.5
