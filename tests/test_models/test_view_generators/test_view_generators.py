# Copyright (c) mmuss contributors. All rights reserved.
"""Views made inside the model: learned views trained through the frozen
backbone, and test-time averaging over generated views."""

import copy

import pytest
import torch
from helpers import ProjectionCodeHead, make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.models.decode_heads import BaseCodeHead
from mmuss.models.view_generators import HorizontalFlipView, PixelAffineView


@MODELS.register_module(force=True)
class LearnedViewHead(ProjectionCodeHead, BaseCodeHead):
    """Codes of the batch should match the codes of a learned view
    (tests only)."""

    required_views = ('learned',)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def loss_by_codes(self, codes, head_inputs):
        view_codes = self.forward(head_inputs.view('learned'))
        return dict(loss_view=(codes - view_codes).pow(2).mean())


def learned_view_model(**overrides):
    cfg = tiny_segmentor_cfg(
        decode_head=dict(type='LearnedViewHead', in_channels=32, channels=8),
        view_generators=dict(learned=dict(type='PixelAffineView')),
        linear=False,
        **overrides,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_generators_map_pixels():
    images = torch.rand(2, 3, 4, 5)
    flip = HorizontalFlipView()
    torch.testing.assert_close(flip(images), images.flip(-1))
    torch.testing.assert_close(flip.invert(flip(images)), images)
    affine = PixelAffineView()
    torch.testing.assert_close(affine(images), images)
    assert affine.gain.requires_grad


def test_learned_view_trains_through_the_frozen_backbone():
    model = learned_view_model(backbone_grad=True)
    with torch.no_grad():
        model.view_generators.learned.gain.fill_(0.7)
    inputs = torch.randint(0, 256, (2, 3, 32, 32)).float()
    samples = make_samples(2, 32, 32, 3)
    losses = model.loss(inputs, samples)
    losses['decode.loss_view'].backward()
    generator = model.view_generators.learned
    assert generator.gain.grad.abs().sum() > 0
    assert generator.offset.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.backbone.parameters())
    # the view is the preprocessor's normalisation of gain * pixels
    pixels = model.data_preprocessor.denormalize_image(inputs)
    expected = model.data_preprocessor.normalize_image(0.7 * pixels)
    torch.testing.assert_close(
        model.generated_view('learned', inputs), expected
    )


def test_learned_view_without_backbone_grad_is_an_error():
    model = learned_view_model()
    inputs = torch.randint(0, 256, (2, 3, 32, 32)).float()
    with pytest.raises(ValueError, match='backbone_grad=True'):
        model.loss(inputs, make_samples(2, 32, 32, 3))


def test_generated_views_need_the_uss_preprocessor():
    cfg = tiny_segmentor_cfg(
        view_generators=dict(flip=dict(type='HorizontalFlipView'))
    )
    cfg['data_preprocessor'] = dict(
        cfg['data_preprocessor'], type='SegDataPreProcessor'
    )
    model = MODELS.build(cfg)
    with pytest.raises(TypeError, match='USSDataPreProcessor'):
        model.generated_view('flip', torch.zeros(1, 3, 32, 32))


def test_tta_averages_probabilities_over_views():
    cfg = tiny_segmentor_cfg(
        view_generators=dict(flip=dict(type='HorizontalFlipView'))
    )
    model = MODELS.build(cfg).eval()
    inputs = torch.randn(2, 3, 32, 32)
    metas = [s.metainfo for s in make_samples(2, 32, 32, 3)]
    with torch.no_grad():
        plain = model.encode_decode(inputs, metas)
        mirrored = model.encode_decode(inputs.flip(-1), metas).flip(-1)
        model.test_cfg['tta_views'] = ['flip']
        averaged = model.encode_decode(inputs, metas)
    clusters = model.num_clusters

    def probabilities(outputs):
        return torch.cat(
            [
                outputs[:, :clusters].softmax(1),
                outputs[:, clusters:].softmax(1),
            ],
            dim=1,
        )

    expected = ((probabilities(plain) + probabilities(mirrored)) / 2).log()
    torch.testing.assert_close(averaged, expected, atol=1e-4, rtol=1e-4)
    model.test_cfg['tta_views'] = ['missing']
    with pytest.raises(KeyError, match='missing'):
        model.encode_decode(inputs, metas)


def test_tta_works_with_slide_inference_and_crf():
    cfg = tiny_segmentor_cfg(
        view_generators=dict(flip=dict(type='HorizontalFlipView')),
        test_cfg=dict(
            mode='slide',
            crop_size=(32, 32),
            stride=(16, 16),
            tta_views=['flip'],
            use_crf=True,
            crf=dict(num_workers=1),
        ),
    )
    model = MODELS.build(copy.deepcopy(cfg)).eval()
    inputs = torch.randint(0, 256, (1, 3, 48, 48)).float()
    samples = make_samples(1, 48, 48, 3)
    with torch.no_grad():
        results = model.predict(inputs, samples)
    logits = results[0].seg_logits.data
    assert logits.shape == (3, 48, 48)
    torch.testing.assert_close(
        logits.exp().sum(0), torch.ones(48, 48), atol=1e-3, rtol=1e-3
    )
