# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg's colour/luminosity-invariant view."""

import pytest
import torch
from mmseg.registry import MODELS

from mmuss.models.view_generators import InvariantColourView
from mmuss.models.view_generators.invariant_colour_view import luminance


def test_view_keeps_shape_range_and_draws_per_image():
    torch.manual_seed(0)
    view = MODELS.build(dict(type='InvariantColourView'))
    assert isinstance(view, InvariantColourView)
    images = torch.rand(4, 3, 8, 8) * 255
    out = view(images)
    assert out.shape == images.shape
    assert out.min() >= 0 and out.max() <= 255
    assert not torch.allclose(out, images)
    ratios = (out / images.clamp_min(1)).mean(dim=(1, 2, 3))
    assert ratios.unique().numel() == 4  # each image its own draw
    assert view.apply_geometry(images) is images
    assert view.invert(images) is images


def test_zero_spreads_are_the_identity():
    view = InvariantColourView(0.0, 0.0, 0.0, 0.0)
    images = torch.rand(2, 3, 5, 5) * 255
    torch.testing.assert_close(view(images), images)


def test_saturation_alone_keeps_the_luma():
    view = InvariantColourView(0.0, 0.0, 0.0, 0.5, value_range=(-1e9, 1e9))
    images = torch.rand(2, 3, 5, 5)
    torch.testing.assert_close(luminance(view(images)), luminance(images))


def test_spreads_are_checked():
    with pytest.raises(ValueError, match='saturation'):
        InvariantColourView(saturation=1.5)
