# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn
from helpers import ProjectionCodeHead, make_samples, tiny_segmentor_cfg
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

from mmuss.models.decode_heads import BaseCodeHead


@MODELS.register_module(force=True)
class RecordingCodeHead(ProjectionCodeHead, BaseCodeHead):
    """A trainable head that records what it receives (tests only)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen_samples = []

    def loss_by_codes(self, codes, head_inputs):
        self.seen_samples.append(head_inputs.data_samples)
        return dict(loss_code=codes.pow(2).mean())


def build(cfg):
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(batch_size=2, num_classes=3, with_gt=True, size=32):
    inputs = torch.randint(0, 256, (batch_size, 3, size, size)).float()
    return inputs, make_samples(batch_size, size, size, num_classes, with_gt)


def test_backbone_is_frozen_in_eval_mode_and_out_of_optimizer():
    model = build(tiny_segmentor_cfg())
    model.train()
    assert model.training and model.cluster_probe.training
    assert not model.backbone.training
    assert all(not m.training for m in model.backbone.modules())
    assert all(not p.requires_grad for p in model.backbone.parameters())
    optim_wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='Adam', lr=1e-3),
            constructor='TrainableParamsOptimWrapperConstructor',
        ),
    )
    optimized = {
        id(p)
        for group in optim_wrapper.optimizer.param_groups
        for p in group['params']
    }
    assert optimized == {id(p) for p in model.cluster_probe.parameters()} | {
        id(p) for p in model.linear_probe.parameters()
    }


def test_training_step_updates_probes_not_backbone():
    model = build(tiny_segmentor_cfg())
    model.train()
    backbone_before = [p.clone() for p in model.backbone.parameters()]
    probe_before = model.cluster_probe.clusters.clone()
    optim_wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='Adam', lr=1e-2),
            constructor='TrainableParamsOptimWrapperConstructor',
        ),
    )
    inputs, samples = batch()
    data = model.data_preprocessor(
        dict(inputs=list(inputs.byte()), data_samples=samples), True
    )
    losses = model(**data, mode='loss')
    assert set(losses) == {'cluster_probe.loss', 'linear_probe.loss'}
    parsed, _ = model.parse_losses(losses)
    optim_wrapper.update_params(parsed)
    assert all(p.grad is None for p in model.backbone.parameters())
    for before, after in zip(backbone_before, model.backbone.parameters()):
        assert torch.equal(before, after)
    assert not torch.equal(probe_before, model.cluster_probe.clusters)


def test_head_never_sees_ground_truth_and_probes_get_detached_codes():
    model = build(
        tiny_segmentor_cfg(
            decode_head=dict(
                type='RecordingCodeHead', in_channels=32, channels=16
            )
        )
    )
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    seen = model.decode_head.seen_samples[-1]
    assert all('gt_sem_seg' not in sample for sample in seen)
    assert all('gt_sem_seg' in sample for sample in samples)
    assert seen[0].metainfo['img_path'] == samples[0].metainfo['img_path']
    # gradients of the probe losses never reach the head
    probe_loss = losses['cluster_probe.loss'] + losses['linear_probe.loss']
    probe_loss.backward(retain_graph=True)
    assert model.decode_head.projection.weight.grad is None
    losses['decode.loss_code'].backward()
    assert model.decode_head.projection.weight.grad is not None


def test_unlabelled_batch_skips_linear_probe():
    model = build(tiny_segmentor_cfg())
    inputs, samples = batch(with_gt=False)
    assert set(model.loss(inputs, samples)) == {'cluster_probe.loss'}


def test_linear_probe_label_out_of_range_names_file():
    model = build(tiny_segmentor_cfg())
    inputs, samples = batch()
    samples[1].gt_sem_seg.data[0, 0, 0] = 7
    with pytest.raises(ValueError, match=r'\[7\] in label_1.png'):
        model.loss(inputs, samples)


def test_class_count_errors_at_build_time():
    with pytest.raises(
        ValueError,
        match=r'num_clusters=2 .* is smaller '
        r'than num_classes=3',
    ):
        MODELS.build(tiny_segmentor_cfg(num_clusters=2))
    cfg = tiny_segmentor_cfg()
    cfg['linear_probe'] = dict(type='LinearProbe', num_classes=5)
    with pytest.raises(ValueError, match='linear_probe.num_classes=5'):
        MODELS.build(cfg)


def test_predict_outputs_clusters_and_linear_classes():
    model = build(tiny_segmentor_cfg(num_clusters=5)).eval()
    inputs, samples = batch(size=32)
    for sample in samples:
        sample.set_metainfo(dict(ori_shape=(40, 36)))
    with torch.no_grad():
        results = model.predict(inputs, samples)
    for result in results:
        assert result.pred_sem_seg.data.shape == (1, 40, 36)
        assert result.seg_logits.data.shape == (5, 40, 36)
        assert 0 <= result.pred_sem_seg.data.min()
        assert result.pred_sem_seg.data.max() < 5
        assert result.pred_linear_sem_seg.data.shape == (1, 40, 36)
        assert result.pred_linear_sem_seg.data.max() < 3
    # without resizing, seg_logits are the cluster log-probabilities
    for sample in samples:
        sample.set_metainfo(dict(ori_shape=(32, 32)))
    with torch.no_grad():
        results = model.predict(inputs, samples)
    torch.testing.assert_close(
        results[0].seg_logits.data.exp().sum(0), torch.ones(32, 32)
    )


def test_probes_are_applied_to_codes_upsampled_to_input_size():
    model = build(tiny_segmentor_cfg(linear=False)).eval()
    inputs, _ = batch(size=32)
    with torch.no_grad():
        codes = model._forward(inputs)
        upsampled = nn.functional.interpolate(
            codes, size=(32, 32), mode='bilinear', align_corners=False
        )
        expected = model.cluster_probe(upsampled)
        torch.testing.assert_close(
            model.encode_decode(inputs, [dict()] * 2), expected
        )
        model.test_cfg['probe_resolution'] = 'feature'
        cheap = model.encode_decode(inputs, [dict()] * 2)
    assert cheap.shape == expected.shape
    assert not torch.allclose(cheap, expected)


def test_flip_averages_codes_with_flipped_image():
    model = build(tiny_segmentor_cfg(linear=False)).eval()
    inputs, _ = batch(size=32)
    model.test_cfg['flip'] = True
    with torch.no_grad():
        averaged = model.test_codes(inputs)
        plain = model._forward(inputs)
        flipped = model._forward(inputs.flip(-1)).flip(-1)
    torch.testing.assert_close(averaged, (plain + flipped) / 2)
    assert not torch.allclose(averaged, plain)


def test_slide_inference_covers_image():
    model = build(
        tiny_segmentor_cfg(
            test_cfg=dict(mode='slide', crop_size=(32, 32), stride=(16, 16))
        )
    ).eval()
    inputs, samples = batch(size=48)
    with torch.no_grad():
        whole_size = model.inference(
            inputs, [s.metainfo for s in samples]
        ).shape
        results = model.predict(inputs, samples)
    assert whole_size == (2, 3 + 3, 48, 48)
    assert results[0].pred_sem_seg.data.shape == (1, 48, 48)


def test_tensor_mode_returns_codes():
    model = build(tiny_segmentor_cfg())
    inputs, _ = batch(size=32)
    codes = model(inputs, mode='tensor')
    assert codes.shape == (2, 32, 4, 4)


@pytest.mark.parametrize(
    'backbone, head',
    [
        (
            dict(
                type='ResNetV1c',
                depth=18,
                out_indices=(3,),
                norm_cfg=dict(type='BN'),
            ),
            dict(type='IdentityHead', in_channels=512),
        ),
        (
            dict(
                type='mmpretrain.ConvNeXt',
                arch='atto',
                out_indices=(3,),
                gap_before_final_norm=False,
            ),
            dict(type='IdentityHead', in_channels=320),
        ),
    ],
)
def test_other_backbones_work_by_config(backbone, head):
    model = build(tiny_segmentor_cfg(backbone=backbone, decode_head=head))
    model.train()
    assert all(not m.training for m in model.backbone.modules())
    inputs, samples = batch(size=64)
    losses = model.loss(inputs, samples)
    assert losses['cluster_probe.loss'].requires_grad
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, samples)
    assert results[0].pred_sem_seg.data.shape == (1, 64, 64)


def test_pooled_backbone_output_is_reported():
    model = build(
        tiny_segmentor_cfg(
            backbone=dict(
                type='mmpretrain.ConvNeXt', arch='atto', out_indices=(3,)
            ),
            decode_head=dict(type='IdentityHead', in_channels=320),
        )
    )
    inputs, samples = batch(size=64)
    with pytest.raises(ValueError, match='gap_before_final_norm=False'):
        model.loss(inputs, samples)


def test_head_cluster_interface_is_declared_on_the_base():
    """Heads predict no clusters unless they declare num_clusters; the
    segmentor refuses cluster_source='head' for them by that declaration."""
    head = MODELS.build(dict(type='IdentityHead', in_channels=32))
    assert head.num_clusters is None
    with pytest.raises(TypeError, match='IdentityHead predicts no clusters'):
        head.cluster_logits(torch.zeros(1, 32, 2, 2))
    with pytest.raises(ValueError, match='IdentityHead predicts no clusters'):
        MODELS.build(tiny_segmentor_cfg(cluster_source='head'))
