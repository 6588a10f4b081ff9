# Copyright (c) mmuss contributors. All rights reserved.
"""The ``test_views`` route: generated views' features in the head at
test time (MSSSeg's StructAug TTA inside its prediction)."""

import pytest
import torch
from helpers import make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS
from route_heads import TestViewHead  # noqa: F401 (registers it)


def build(generators):
    model = MODELS.build(
        tiny_segmentor_cfg(
            decode_head=dict(type='TestViewHead', in_channels=32, channels=8),
            view_generators=generators,
            linear=False,
        )
    )
    model.init_weights()
    return model


def test_views_reach_the_head_at_test_time_only():
    model = build(dict(shifted=dict(type='PixelAffineView', learnable=False)))
    with torch.no_grad():
        model.view_generators['shifted'].offset.fill_(40.0)
    inputs = torch.randn(2, 3, 32, 32)
    samples = make_samples(2, 32, 32, 3)
    model.loss(inputs, samples)
    assert model.decode_head.seen == [0]
    model.eval()
    with torch.no_grad():
        codes = model._forward(inputs, samples)
        feats = model.extract_feat(inputs)
        view = model.generated_view_features('shifted', inputs)
    head = model.decode_head
    expected = (head.forward(feats) + 2 * head.forward(view)) / 3
    torch.testing.assert_close(codes, expected)
    assert head.seen[-1] == 2


def test_unknown_test_view_is_an_error():
    model = build({}).eval()
    with pytest.raises(KeyError, match=r"\['shifted'\].*view_generators"):
        model._forward(torch.randn(1, 3, 32, 32))
