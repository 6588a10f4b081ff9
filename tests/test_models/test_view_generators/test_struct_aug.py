# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's StructAug (§3.3) as a learned view trained through the frozen
backbone and as test-time augmentation."""

import math

import pytest
import torch
import torch.nn.functional as F
from helpers import ProjectionCodeHead, make_samples, tiny_segmentor_cfg
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from mmuss.models.decode_heads import BaseCodeHead
from mmuss.models.utils import (
    GeodesicOperator,
    pixels_to_hls,
    structural_blend,
    toolbox_outputs,
)
from mmuss.models.view_generators import StructAug


@MODELS.register_module(force=True)
class StructAugConsistencyHead(ProjectionCodeHead, BaseCodeHead):
    """The codes of the StructAug view should match the clean image's
    (tests only)."""

    required_views = ('structaug',)

    def loss_by_codes(self, codes, head_inputs):
        view_codes = self.forward(head_inputs.view('structaug'))
        return dict(loss_view=(codes - view_codes).pow(2).mean())


def random_pixels(seed, batch=2, size=16):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, size, size, generator=gen) * 255


def smooth_pixels(seed, batch=2, size=16):
    """Pixel values with structure (upsampled noise): each operator of
    the toolbox changes them differently."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(batch, 3, size // 4, size // 4, generator=gen)
    return F.interpolate(coarse, size=(size, size), mode='bilinear') * 255


def view_loss(view, seed=1):
    """A fixed non-trivial loss of a view."""
    gen = torch.Generator().manual_seed(seed)
    target = torch.rand(view.shape, generator=gen) * 255
    return (view - target).pow(2).mean()


def test_builds_from_the_registry_with_fewer_than_10_scalars():
    generator = MODELS.build(dict(type='StructAug'))
    assert isinstance(generator, StructAug)
    assert sum(p.numel() for p in generator.parameters()) == 9 < 10
    values = generator.constrained_parameters()
    torch.testing.assert_close(values['beta'], torch.full((2,), 10.0))
    torch.testing.assert_close(values['penalty'], torch.full((2,), 0.1))
    torch.testing.assert_close(values['blend'], torch.tensor(0.25))


def test_view_shape_range_and_kept_hue_saturation():
    torch.manual_seed(0)
    generator = StructAug(init_blend=0.45)
    pixels = smooth_pixels(0, batch=4, size=32)
    view = generator(pixels)
    assert view.shape == pixels.shape and view.dtype == pixels.dtype
    assert view.min() >= 0 and view.max() <= 255 + 1e-3
    assert (view - pixels).abs().max() > 1  # it does change the image
    before, after = pixels_to_hls(pixels), pixels_to_hls(view)
    # hue and saturation kept where both are well defined
    defined = (
        (before[:, 2] > 0.1)
        & (after[:, 1] > 0.05)
        & (after[:, 1] < 0.95)
        & (before[:, 1] > 0.05)
        & (before[:, 1] < 0.95)
    )
    assert defined.float().mean() > 0.5
    hue_gap = torch.remainder(
        after[:, 0] - before[:, 0] + math.pi, 2 * math.pi
    )
    assert (hue_gap - math.pi)[defined].abs().max() < 1e-3
    assert (after[:, 2] - before[:, 2])[defined].abs().max() < 1e-3


def test_lightness_is_eq8_of_the_sampled_operator():
    generator = StructAug(hard=True).eval()
    pixels = smooth_pixels(1)
    torch.manual_seed(3)
    view = generator(pixels)
    torch.manual_seed(3)
    values = generator.constrained_parameters()
    weights = generator.select(values['logits'], 2)
    lightness = pixels_to_hls(pixels)[:, 1:2]
    erosion = GeodesicOperator(values['beta'][0], values['penalty'][0])
    dilation = GeodesicOperator(values['beta'][1], values['penalty'][1])
    outputs = toolbox_outputs(lightness, erosion, dilation, guide=lightness)
    expected = structural_blend(lightness, outputs, weights, values['blend'])
    torch.testing.assert_close(
        pixels_to_hls(view)[:, 1:2],
        expected.clamp(0, 1),
        atol=1e-4,
        rtol=0,
    )


def test_bgr_order_gives_the_same_colours():
    pixels = smooth_pixels(2)
    torch.manual_seed(5)
    rgb_view = StructAug()(pixels)
    torch.manual_seed(5)
    bgr_view = StructAug(channel_order='bgr')(pixels.flip(1))
    torch.testing.assert_close(bgr_view, rgb_view.flip(1))


@pytest.mark.parametrize('hard', [True, False])
def test_gradients_reach_every_learnable_scalar(hard):
    torch.manual_seed(0)
    generator = StructAug(hard=hard, adversarial=False)
    view_loss(generator(random_pixels(0, batch=4))).backward()
    grads = torch.cat([p.grad.flatten() for p in generator.parameters()])
    assert grads.numel() == 9
    assert torch.isfinite(grads).all() and (grads != 0).all()


def sgd_step_deltas(adversarial, lr=1e-3):
    """Parameter changes of one SGD step on :func:`view_loss` and the loss
    before and after it (same Gumbel noise)."""
    generator = StructAug(hard=False, adversarial=adversarial)
    before = [p.detach().clone() for p in generator.parameters()]
    optimizer = torch.optim.SGD(generator.parameters(), lr=lr)
    pixels = smooth_pixels(4)
    torch.manual_seed(7)
    loss = view_loss(generator(pixels))
    loss.backward()
    optimizer.step()
    torch.manual_seed(7)
    with torch.no_grad():
        after_loss = view_loss(generator(pixels))
    deltas = torch.cat(
        [
            (p.detach() - b).flatten()
            for p, b in zip(generator.parameters(), before)
        ]
    )
    return deltas, loss.item(), after_loss.item()


def test_adversarial_step_moves_the_parameters_the_other_way():
    reversed_deltas, loss, adversarial_after = sgd_step_deltas(True)
    plain_deltas, same_loss, plain_after = sgd_step_deltas(False)
    assert loss == same_loss
    assert (plain_deltas != 0).all()
    torch.testing.assert_close(reversed_deltas, -plain_deltas)
    # descent lowers the loss, the reversed gradient raises it
    assert plain_after < loss < adversarial_after


def test_grad_scale_scales_the_step():
    torch.manual_seed(0)
    generator = StructAug(grad_scale=0.5)
    view_loss(generator(random_pixels(1))).backward()
    half = torch.cat([p.grad.flatten() for p in generator.parameters()])
    generator.zero_grad()
    generator.grad_scale = 1.0
    generator.adversarial = False
    torch.manual_seed(0)
    view_loss(generator(random_pixels(1))).backward()
    full = torch.cat([p.grad.flatten() for p in generator.parameters()])
    torch.testing.assert_close(half, -0.5 * full)


def test_eval_views_are_sampled_unless_told_otherwise():
    pixels = smooth_pixels(5, batch=8)
    generator = StructAug().eval()
    views = [generator(pixels) for _ in range(4)]
    assert any(not torch.equal(views[0], other) for other in views[1:])
    with torch.no_grad():
        generator.logits.copy_(torch.tensor([0.0, 3.0, 0.0, 0.0]))
    generator.sample_in_eval = False
    first, second = generator(pixels), generator(pixels)
    torch.testing.assert_close(first, second)
    # the most likely operator: closing (never darker than the image)
    lightness = pixels_to_hls(pixels)[:, 1]
    assert (pixels_to_hls(first)[:, 1] >= lightness - 1e-4).all()
    generator.train()  # training always samples
    assert any(
        not torch.equal(generator(pixels), generator(pixels)) for _ in range(4)
    )


def test_bad_inputs_and_options_are_named():
    generator = StructAug()
    with pytest.raises(ValueError, match=r'\(2, 1, 8, 8\)'):
        generator(torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r'\(3, 8, 8\)'):
        generator(torch.zeros(3, 8, 8))
    bad_options = [
        (dict(kernel_size=4), 'kernel_size.*4'),
        (dict(init_beta=0.0), 'init_beta.*0.0'),
        (dict(max_blend=1.5), 'max_blend.*1.5'),
        (dict(init_blend=0.6), 'init_blend.*0.6'),
        (dict(tau=-1.0), 'tau.*-1.0'),
        (dict(guide='pixels'), "guide.*'pixels'"),
        (dict(top_hat='both'), "top_hat.*'both'"),
        (dict(channel_order='hsv'), "channel_order.*'hsv'"),
        (dict(grad_scale=-1.0), 'grad_scale.*-1.0'),
    ]
    for options, message in bad_options:
        with pytest.raises(ValueError, match=message):
            StructAug(**options)


# --------------------------------------------------------------------------
# In the segmentor: trained through the frozen backbone, averaged at test


def structaug_model(seed=0, **generator):
    torch.manual_seed(seed)
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='StructAugConsistencyHead', in_channels=32, channels=8
        ),
        view_generators=dict(structaug=dict(type='StructAug', **generator)),
        backbone_grad=True,
        linear=False,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def train_step_deltas(adversarial):
    model = structaug_model(adversarial=adversarial, hard=False)
    generator = model.view_generators.structaug
    before = [p.detach().clone() for p in generator.parameters()]
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=list(torch.randint(0, 256, (2, 3, 32, 32), generator=gen)),
        data_samples=make_samples(2, 32, 32, 3),
    )
    torch.manual_seed(1)
    model.train_step(data, wrapper)
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, backbone[key])
    return torch.cat(
        [
            (p.detach() - b).flatten()
            for p, b in zip(generator.parameters(), before)
        ]
    )


def test_trains_through_the_frozen_backbone_in_both_directions():
    adversarial = train_step_deltas(True)
    plain = train_step_deltas(False)
    assert (plain != 0).all()
    torch.testing.assert_close(adversarial, -plain)


def test_tta_averages_the_clean_image_and_n_perturbed_views():
    model = structaug_model().eval()
    model.test_cfg['tta_views'] = ['structaug'] * 3
    inputs = model.data_preprocessor.normalize_image(smooth_pixels(6, 2, 32))
    metas = [s.metainfo for s in make_samples(2, 32, 32, 3)]
    with torch.no_grad():
        torch.manual_seed(11)
        averaged = model.encode_decode(inputs, metas)
        # the same draws, one view at a time
        torch.manual_seed(11)
        views = [model.generated_view('structaug', inputs) for _ in range(3)]
        model.test_cfg['tta_views'] = []
        probs = [
            model.encode_decode(x, metas).softmax(1) for x in [inputs, *views]
        ]
    assert not torch.equal(probs[1], probs[0])  # the views differ
    expected = (sum(probs) / 4).log()
    torch.testing.assert_close(averaged, expected, atol=1e-5, rtol=1e-5)
    # and the prediction goes through the whole inference path
    model.test_cfg['tta_views'] = ['structaug'] * 2
    with torch.no_grad():
        results = model.predict(inputs, make_samples(2, 32, 32, 3))
    assert results[0].pred_sem_seg.data.shape == (1, 32, 32)
