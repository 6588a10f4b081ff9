# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.models.decode_heads import (
    DS2DLHead,
    HeadInputs,
    SmooSegHead,
    cluster_usage,
)
from mmuss.models.utils import CodeProjection, EMAPrototypes

LOSS_KEYS = {'loss_pair', 'loss_l2g', 'loss_orth', 'loss_data'}


def tiny_head(**kwargs):
    return DS2DLHead(in_channels=16, num_prototypes=4, channels=8, **kwargs)


def test_head_reuses_smooseg_projection_and_prototypes():
    head = tiny_head()
    assert isinstance(head.projection, CodeProjection)
    assert isinstance(head.prototypes, EMAPrototypes)
    assert type(head.projection) is type(SmooSegHead(16, 4).projection)
    torch.testing.assert_close(
        head.prototypes.student, head.prototypes.teacher
    )
    assert head.prototypes.momentum == 0.998
    assert head.num_clusters == 4
    head.eval()
    feats = [torch.randn(2, 16, 5, 5)]
    p = head.projection
    expected = p.linear(feats[0]) + p.nonlinear(feats[0])
    torch.testing.assert_close(head(feats), expected)


def test_loss_keys_usage_and_ema_update():
    torch.manual_seed(0)
    head = tiny_head()
    with torch.no_grad():
        head.prototypes.student.add_(torch.randn_like(head.prototypes.student))
    before = head.prototypes.teacher.clone()
    feats = [torch.randn(3, 16, 4, 4)]
    losses = head.loss_by_codes(head(feats), HeadInputs(feats))
    assert LOSS_KEYS <= set(losses)
    assert {'usage_used', 'usage_entropy', 'usage_max', 'pair_bias'} <= set(
        losses
    )
    expected = 0.998 * before + 0.002 * head.prototypes.student.detach()
    torch.testing.assert_close(head.prototypes.teacher, expected)


def test_label_features_come_from_global_prototypes_without_gradient():
    head = tiny_head()
    codes = torch.randn(2, 8, 3, 3, requires_grad=True)
    labels = head.label_features(codes)
    expected = F.softmax(head.prototypes.teacher_similarity(codes) / 0.1, 1)
    torch.testing.assert_close(labels, expected.detach())
    assert not labels.requires_grad
    sinkhorn = tiny_head(label_source='sinkhorn').label_features(codes)
    torch.testing.assert_close(sinkhorn.sum(1), torch.ones(2, 3, 3))
    with pytest.raises(ValueError, match='label_source'):
        tiny_head(label_source='probe')


def test_gradient_routing():
    torch.manual_seed(0)
    head = tiny_head()
    feats = [torch.randn(2, 16, 4, 4)]
    losses = head.loss_by_codes(head(feats), HeadInputs(feats))
    losses['loss_pair'].backward(retain_graph=True)
    assert head.projection.linear.weight.grad.abs().sum() > 0
    assert head.loss_affinity.bias.grad is not None
    assert head.prototypes.student.grad is None  # y is detached
    head.zero_grad()
    losses['loss_l2g'].backward()
    assert head.projection.linear.weight.grad.abs().sum() > 0
    assert head.prototypes.student.grad.abs().sum() > 0


def test_cluster_usage_hand_computed():
    usage = cluster_usage(torch.tensor([0, 0, 0, 1]), 4)
    assert usage['usage_used'].item() == 0.5
    assert usage['usage_max'].item() == 0.75
    entropy = -(
        0.75 * torch.tensor(0.75).log() + 0.25 * torch.tensor(0.25).log()
    )
    assert usage['usage_entropy'].item() == pytest.approx(
        (entropy / torch.tensor(4.0).log()).item()
    )
    collapsed = cluster_usage(torch.zeros(10, dtype=torch.long), 4)
    assert collapsed['usage_entropy'].item() == 0


def test_ablation_switches_drop_terms():
    head = tiny_head(
        loss_affinity=dict(cross_pairs=False),
        loss_cluster=dict(loss_orth_weight=0.0, loss_l2g_weight=0.0),
    )
    feats = [torch.randn(2, 16, 3, 3)]
    losses = head.loss_by_codes(head(feats), HeadInputs(feats))
    assert 'pair_cross' not in losses
    assert 'loss_orth' not in losses and 'loss_l2g' not in losses
    assert head.loss_cluster.temperature == 0.1


def test_segmentor_trains_and_predicts_with_global_prototypes():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='DS2DLHead', in_channels=32, num_prototypes=5, channels=8
        ),
        cluster_source='head',
        cluster_probe=None,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    assert model.num_clusters == 5
    inputs = torch.randn(2, 3, 32, 32)
    samples = make_samples(2, 32, 32, 3)
    losses = model.loss(inputs, samples)
    assert {f'decode.{k}' for k in LOSS_KEYS} <= set(losses)
    assert 'decode.usage_entropy' in losses
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.decode_head.loss_affinity.bias.grad is not None
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, samples)
        codes = model._forward(inputs)
    up = F.interpolate(codes, size=(32, 32), mode='bilinear')
    expected = model.decode_head.cluster_logits(up).argmax(1)
    assert torch.equal(results[0].pred_sem_seg.data[0], expected[0])


def test_no_ground_truth_reaches_the_head_losses():
    """The head's losses are the same whether the samples carry labels or
    not (the segmentor strips them; the head reads none)."""
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='DS2DLHead',
            in_channels=32,
            num_prototypes=5,
            channels=8,
            dropout_ratio=0.0,
        ),
        cluster_source='head',
        cluster_probe=None,
        linear=False,
    )
    inputs = torch.randn(3, 3, 32, 32)
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
