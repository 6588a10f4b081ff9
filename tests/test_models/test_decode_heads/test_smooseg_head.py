# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.models.decode_heads import HeadInputs, SmooSegHead


def test_gradients_follow_smooseg_split():
    """Head <- smoothness only; student prototypes <- data term only."""
    torch.manual_seed(0)
    head = SmooSegHead(in_channels=16, num_prototypes=4, channels=8)
    feats = [torch.randn(2, 16, 5, 5)]
    codes = head(feats)
    losses = head.loss_by_codes(codes, HeadInputs(feats))
    assert {'loss_smooth', 'loss_data', 'smooth_self', 'smooth_rand'} == set(
        losses
    )
    losses['loss_smooth'].backward(retain_graph=True)
    assert head.linear.weight.grad.abs().sum() > 0
    assert head.prototypes.student.grad is None
    head.zero_grad()
    losses['loss_data'].backward()
    assert head.linear.weight.grad is None or not head.linear.weight.grad.any()
    assert head.prototypes.student.grad.abs().sum() > 0


def test_data_term_is_cross_entropy_to_teacher_argmax():
    head = SmooSegHead(in_channels=16, num_prototypes=4, channels=8).eval()
    feats = [torch.randn(2, 16, 5, 5)]
    codes = head(feats)
    losses = head.loss_by_codes(codes, HeadInputs(feats))
    teacher = head.prototypes.teacher_similarity(codes)
    expected = F.cross_entropy(
        head.prototypes.student_similarity(codes.detach()), teacher.argmax(1)
    )
    torch.testing.assert_close(losses['loss_data'], expected)


def test_smoothness_energy_hand_computed():
    from mmuss.models.losses import smoothness_loss_map

    feature_corr = torch.tensor([0.9, 0.1])
    prob_corr = torch.tensor([0.2, 0.2])
    energy = smoothness_loss_map(feature_corr, prob_corr, shift=0.5)
    torch.testing.assert_close(energy, torch.tensor([0.4 * 0.8, -0.4 * 0.8]))


def test_segmentor_predicts_with_teacher_prototypes():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='SmooSegHead', in_channels=32, num_prototypes=5, channels=8
        ),
        cluster_source='head',
        cluster_probe=None,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    assert model.cluster_probe is None and model.num_clusters == 5
    inputs = torch.randn(2, 3, 32, 32)
    samples = make_samples(2, 32, 32, 3)
    losses = model.loss(inputs, samples)
    assert 'cluster_probe.loss' not in losses
    assert {'decode.loss_smooth', 'decode.loss_data'} <= set(losses)
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, samples)
        codes = model._forward(inputs)
    up = F.interpolate(codes, size=(32, 32), mode='bilinear')
    expected = model.decode_head.cluster_logits(up).argmax(1)
    assert torch.equal(results[0].pred_sem_seg.data[0], expected[0])
