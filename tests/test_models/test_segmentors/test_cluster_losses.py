# Copyright (c) mmuss contributors. All rights reserved.
"""The segmentor's ``cluster_losses`` route: losses on the model's own
cluster probabilities, added to any head (e.g. PHLoss on STEGO)."""

import torch
import torch.nn as nn
from helpers import make_samples, tiny_segmentor_cfg, tiny_stego_cfg
from mmseg.registry import MODELS

from mmuss.models.probes.cluster_probe import cosine_cluster_similarity


@MODELS.register_module(force=True)
class RecordingClusterLoss(nn.Module):
    """Mean probability off the reference cluster; records its inputs."""

    loss_name = 'loss_recorded'

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, probs, reference):
        self.seen.append((probs, reference))
        on_reference = probs.gather(1, reference[:, None])
        return (1 - on_reference).mean()


def batch():
    torch.manual_seed(0)
    return torch.rand(2, 3, 32, 32) * 255, make_samples(2, 32, 32, 3)


def test_probe_source_gradients_reach_the_head_not_the_probe():
    cfg = tiny_stego_cfg(
        cluster_losses=[dict(type='RecordingClusterLoss')], linear=False
    )
    cfg['decode_head']['knn_view'] = None
    cfg['decode_head']['loss_corr']['weight_knn'] = 0.0
    model = MODELS.build(cfg)
    model.init_weights()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert 'cluster_loss.loss_recorded' in losses
    probs, reference = model.cluster_losses[0].seen[0]
    codes = model._codes_of(inputs)  # training mode: dropout differs
    assert probs.shape == (2, 3) + codes.shape[2:]
    torch.testing.assert_close(probs.sum(1), torch.ones(2, *codes.shape[2:]))
    assert torch.equal(reference, probs.detach().argmax(1))
    model.zero_grad()
    losses['cluster_loss.loss_recorded'].backward()
    assert model.decode_head.linear.weight.grad.abs().sum() > 0
    assert model.cluster_probe.clusters.grad is None


def test_probe_probabilities_are_the_probe_scores():
    model = MODELS.build(tiny_segmentor_cfg(linear=False)).eval()
    codes = torch.randn(2, 32, 4, 4, requires_grad=True)
    probs = model.cluster_probabilities(codes)
    expected = (
        model.cluster_probe.alpha
        * cosine_cluster_similarity(codes, model.cluster_probe.clusters)
    ).softmax(1)
    torch.testing.assert_close(probs, expected)
    torch.testing.assert_close(probs.log(), model.cluster_probe(codes))


def test_head_source_uses_the_heads_cluster_logits():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(
            type='SmooSegHead', in_channels=32, num_prototypes=3, channels=8
        ),
        cluster_source='head',
        cluster_probe=None,
        cluster_losses=[dict(type='RecordingClusterLoss')],
        linear=False,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    codes = torch.randn(2, 8, 4, 4)
    torch.testing.assert_close(
        model.cluster_probabilities(codes),
        model.decode_head.cluster_logits(codes).exp(),
    )
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    model.zero_grad()
    losses['cluster_loss.loss_recorded'].backward()
    assert model.decode_head.projection.linear.weight.grad.abs().sum() > 0


def test_no_cluster_losses_no_terms():
    model = MODELS.build(tiny_segmentor_cfg(linear=False))
    inputs, samples = batch()
    assert not any('cluster_loss' in k for k in model.loss(inputs, samples))
