# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.models.decode_heads import HeadInputs, IL2VsegHead, SmooSegHead
from mmuss.models.utils import CodeProjection, EMAPrototypes
from mmuss.models.utils.cue_fusion import fuse_cues, low_level_visual_cue

LOSS_KEYS = {'loss_smooth', 'loss_data', 'loss_fs', 'loss_reg'}


def tiny_head(**kwargs):
    return IL2VsegHead(in_channels=16, num_prototypes=4, channels=8, **kwargs)


def head_inputs(batch=2, grid=4, scale=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    feats = [torch.randn(batch, 16, grid, grid, generator=generator)]
    colours = torch.rand(
        batch, 3, grid * scale, grid * scale, generator=generator
    )
    pixels = colours * 255
    return HeadInputs(feats, dense_inputs={'pixels': pixels}), colours


def test_head_is_smooseg_with_the_image_declared():
    head = tiny_head()
    assert isinstance(head, SmooSegHead)
    assert isinstance(head.projection, CodeProjection)
    assert isinstance(head.prototypes, EMAPrototypes)
    assert head.required_inputs == ('pixels',)
    assert head.num_clusters == 4 and head.alpha == 0.5
    assert head.loss_fs.loss_weight_fs == 0.1
    assert head.loss_fs.loss_weight_reg == 0.05


def test_pixel_colours_are_pixel_values_over_the_colour_scale():
    inputs, colours = head_inputs()
    recovered = tiny_head().pixel_colours(inputs.dense('pixels'))
    torch.testing.assert_close(recovered, colours)
    halved = tiny_head(colour_scale=510.0).pixel_colours(
        inputs.dense('pixels')
    )
    torch.testing.assert_close(halved, colours / 2)


def test_loss_keys_shapes_usage_and_ema():
    torch.manual_seed(0)
    head = tiny_head()
    with torch.no_grad():
        head.prototypes.student.add_(torch.randn_like(head.prototypes.student))
    before = head.prototypes.teacher.clone()
    inputs, _ = head_inputs()
    codes = head(inputs.feats)
    assert codes.shape == (2, 8, 4, 4)
    losses = head.loss_by_codes(codes, inputs)
    assert LOSS_KEYS <= set(losses)
    assert {'usage_used', 'usage_entropy', 'usage_max'} <= set(losses)
    for key in LOSS_KEYS:
        assert losses[key].dim() == 0 and torch.isfinite(losses[key])
    expected = 0.998 * before + 0.002 * head.prototypes.student.detach()
    torch.testing.assert_close(head.prototypes.teacher, expected)


def test_fused_cue_follows_eq13_from_the_heads_memberships():
    head = tiny_head()
    inputs, colours = head_inputs()
    seg = head.prototypes.teacher_similarity(head(inputs.feats))
    fused = head.fused_cue(seg, colours)
    probs = F.softmax(seg.detach() / 0.1, dim=1)
    cue = low_level_visual_cue(colours, probs)
    torch.testing.assert_close(fused, fuse_cues(seg, cue, alpha=0.5))
    assert fused.shape == (2, 4, 4, 4)


def test_gradient_routing_cue_detached_centres_by_data_term():
    torch.manual_seed(0)
    head = tiny_head()
    inputs, _ = head_inputs()
    inputs.dense_inputs['pixels'].requires_grad_(True)
    losses = head.loss_by_codes(head(inputs.feats), inputs)
    (losses['loss_fs'] + losses['loss_reg']).backward(retain_graph=True)
    assert head.projection.linear.weight.grad.abs().sum() > 0
    assert head.prototypes.student.grad is None  # global centres: EMA only
    assert inputs.dense('pixels').grad is None  # the cue is a fixed target
    head.zero_grad()
    losses['loss_data'].backward()
    assert head.prototypes.student.grad.abs().sum() > 0
    assert head.projection.linear.weight.grad is None


def test_kim_reading_reachable():
    head = tiny_head(loss_fs=dict(fs_mode='kim2020'))
    inputs, _ = head_inputs()
    losses = head.loss_by_codes(head(inputs.feats), inputs)
    assert LOSS_KEYS <= set(losses)


def test_segmentor_trains_and_predicts_with_global_centres():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='IL2VsegHead',
            in_channels=32,
            num_prototypes=5,
            channels=8,
            cue_cfg=dict(num_iters=2),
        ),
        cluster_source='head',
        cluster_probe=None,
        linear=False,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    assert model.num_clusters == 5
    inputs = torch.rand(2, 3, 32, 32) * 255
    samples = make_samples(2, 32, 32, 3)
    losses = model.loss(inputs, samples)
    assert {f'decode.{k}' for k in LOSS_KEYS} <= set(losses)
    assert 'decode.usage_entropy' in losses
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.decode_head.projection.linear.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, samples)
        codes = model._forward(inputs)
    up = F.interpolate(codes, size=(32, 32), mode='bilinear')
    expected = model.decode_head.cluster_logits(up).argmax(1)
    assert torch.equal(results[0].pred_sem_seg.data[0], expected[0])


def test_correspondence_loss_uses_the_invariant_view():
    head = tiny_head(
        corr_view='inv_img', loss_corr=dict(num_samples=3, num_negatives=1)
    )
    assert head.required_views == ('inv_img',)
    assert tiny_head().required_views == ()
    inputs, _ = head_inputs()
    view = [torch.randn(2, 16, 4, 4, requires_grad=True)]
    inputs.views['inv_img'] = view
    losses = head.loss_by_codes(head(inputs.feats), inputs)
    assert {'loss_corr', 'corr_self', 'corr_knn', 'corr_rand'} <= set(losses)
    losses['loss_corr'].backward()
    assert head.projection.linear.weight.grad.abs().sum() > 0


def test_segmentor_trains_with_the_generated_invariant_view():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='IL2VsegHead',
            in_channels=32,
            num_prototypes=5,
            channels=8,
            cue_cfg=dict(num_iters=2),
            corr_view='inv_img',
            loss_corr=dict(num_samples=3),
        ),
        view_generators=dict(inv_img=dict(type='InvariantColourView')),
        cluster_source='head',
        cluster_probe=None,
        linear=False,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    inputs = torch.rand(2, 3, 32, 32) * 255
    losses = model.loss(inputs, make_samples(2, 32, 32, 3))
    assert {f'decode.{k}' for k in LOSS_KEYS | {'loss_corr'}} <= set(losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()


def test_fs_temperature_follows_the_fusion():
    assert tiny_head().loss_fs.temperature is None
    assert tiny_head(fuse='raw').loss_fs.temperature == 0.1
    raw = tiny_head(fuse='raw', loss_fs=dict(fs_mode='kim2020'))
    inputs, _ = head_inputs()
    losses = raw.loss_by_codes(raw(inputs.feats), inputs)
    assert torch.isfinite(losses['loss_fs'] + losses['loss_reg'])


def test_no_ground_truth_reaches_the_head_losses():
    """The losses, L_corr's random view included, are the same whether the
    samples carry labels or not."""
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='IL2VsegHead',
            in_channels=32,
            num_prototypes=5,
            channels=8,
            dropout_ratio=0.0,
            cue_cfg=dict(num_iters=2),
            corr_view='inv_img',
            loss_corr=dict(num_samples=3),
        ),
        view_generators=dict(inv_img=dict(type='InvariantColourView')),
        cluster_source='head',
        cluster_probe=None,
        linear=False,
    )
    inputs = torch.rand(3, 3, 32, 32) * 255
    results = []
    for with_gt in (True, False):
        torch.manual_seed(0)
        model = MODELS.build(cfg)
        model.init_weights()
        samples = make_samples(3, 32, 32, 3, with_gt=with_gt)
        torch.manual_seed(1)
        results.append(model.loss(inputs, samples))
    assert set(results[0]) == set(results[1])
    for key in results[0]:
        torch.testing.assert_close(results[0][key], results[1][key])


def test_table4_switches_skip_the_cue(monkeypatch):
    """L_fs and L_reg at weight 0 (Table 4's L_smo and +L_corr rows) leave
    the cue uncomputed; alpha = 0 fuses the head alone."""
    import mmuss.models.decode_heads.il2vseg_head as module

    calls = []
    original = module.low_level_visual_cue
    monkeypatch.setattr(
        module,
        'low_level_visual_cue',
        lambda *a, **k: calls.append(1) or original(*a, **k),
    )
    inputs, colours = head_inputs()
    off = tiny_head(loss_fs=dict(loss_weight_fs=0.0, loss_weight_reg=0.0))
    losses = off.loss_by_codes(off(inputs.feats), inputs)
    assert not off.uses_cue and 'loss_fs' not in losses and not calls
    on = tiny_head()
    on.loss_by_codes(on(inputs.feats), inputs)
    assert on.uses_cue and len(calls) == 1
    head = tiny_head(alpha=0.0)
    seg = head.prototypes.teacher_similarity(head(inputs.feats))
    fused = head.fused_cue(seg, colours)
    torch.testing.assert_close(fused, F.softmax(seg / 0.1, dim=1))
    assert len(calls) == 1
