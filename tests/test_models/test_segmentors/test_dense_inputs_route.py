# Copyright (c) mmuss contributors. All rights reserved.
"""The routes a head can use beyond backbone features: dense inputs
stacked onto the image (training, whole / slide inference, flip), and
gradients through the frozen backbone."""

import pytest
import torch
from helpers import (
    DEPTH_PREPROCESSOR,
    depth_demo_config,
    make_samples,
    tiny_segmentor_cfg,
)
from mmengine.runner import Runner
from mmseg.registry import MODELS
from route_heads import (  # noqa: F401 (registers them)
    DepthAwareHead,
    DepthPredictingHead,
)


def depth_model(**overrides):
    cfg = tiny_segmentor_cfg(
        data_preprocessor=DEPTH_PREPROCESSOR,
        decode_head=dict(type='DepthAwareHead', in_channels=32, channels=8),
        linear=False,
        **overrides,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def depth_batch(batch_size=2, size=32):
    inputs = torch.randn(batch_size, 4, size, size)
    samples = make_samples(batch_size, size, size, 3)
    for sample in samples:
        sample.set_metainfo(dict(aux_channels=(('depth', 1),)))
    return inputs, samples


def test_training_head_gets_named_inputs_backbone_gets_the_image():
    model = depth_model()
    seen_by_backbone = []
    model.backbone.register_forward_pre_hook(
        lambda module, args: seen_by_backbone.append(args[0].shape)
    )
    inputs, samples = depth_batch()
    losses = model.loss(inputs, samples)
    assert seen_by_backbone == [(2, 3, 32, 32)]
    received = model.decode_head.seen_in_loss[0]
    assert list(received) == ['image', 'depth']
    torch.testing.assert_close(received['image'], inputs[:, :3])
    torch.testing.assert_close(received['depth'], inputs[:, 3:])
    losses['decode.loss_depth'].backward()
    assert model.decode_head.depth_weight.grad.abs().sum() > 0


def test_pixels_are_the_image_with_the_normalisation_undone():
    model = depth_model()
    model.decode_head.required_inputs = ('pixels', 'depth')
    inputs, samples = depth_batch()
    model.loss(inputs, samples)
    received = model.decode_head.seen_in_loss[0]
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    torch.testing.assert_close(received['pixels'], inputs[:, :3] * std + mean)
    torch.testing.assert_close(received['depth'], inputs[:, 3:])
    plain = MODELS.build(
        tiny_segmentor_cfg(
            data_preprocessor=dict(type='SegDataPreProcessor'),
            decode_head=dict(
                type='DepthAwareHead', in_channels=32, channels=8
            ),
        )
    )
    plain.decode_head.required_inputs = ('pixels',)
    with pytest.raises(TypeError, match="'pixels'.*USSDataPreProcessor"):
        plain.head_dense_inputs(inputs[:, :3])


def test_layout_mismatches_are_errors():
    model = depth_model()
    inputs, samples = depth_batch()
    for sample in samples:
        sample.set_metainfo(dict(aux_channels=(('normal', 1),)))
    with pytest.raises(ValueError, match=r"normal.*\('depth', 1\)"):
        model.loss(inputs, samples)
    plain = MODELS.build(
        tiny_segmentor_cfg(
            decode_head=dict(type='DepthAwareHead', in_channels=32, channels=8)
        )
    )
    with pytest.raises(ValueError, match=r"\[\('depth', 1\)\].*lays out \[\]"):
        plain.loss(*depth_batch())
    with pytest.raises(ValueError, match=r"\['depth'\].*LoadDenseMap"):
        plain.loss(inputs[:, :3], make_samples(2, 32, 32, 3))


def test_whole_inference_with_flip_passes_flipped_maps():
    model = depth_model(test_cfg=dict(mode='whole', flip=True)).eval()
    inputs, samples = depth_batch()
    with torch.no_grad():
        model.predict(inputs, samples)
    plain, flipped = model.decode_head.seen_in_codes
    torch.testing.assert_close(plain['depth'], inputs[:, 3:])
    torch.testing.assert_close(flipped['depth'], inputs[:, 3:].flip(-1))


def test_slide_inference_passes_each_window_of_the_maps():
    model = depth_model(
        test_cfg=dict(mode='slide', crop_size=(16, 16), stride=(16, 16))
    ).eval()
    inputs, samples = depth_batch()
    with torch.no_grad():
        results = model.predict(inputs, samples)
    windows = [
        inputs[:, 3:, top : top + 16, left : left + 16]
        for top in (0, 16)
        for left in (0, 16)
    ]
    seen = [entry['depth'] for entry in model.decode_head.seen_in_codes]
    assert len(seen) == 4
    for window, received in zip(windows, seen):
        torch.testing.assert_close(received, window)
    assert results[0].pred_sem_seg.data.shape == (1, 32, 32)


def test_feature_cache_is_keyed_on_the_image_channels(tmp_path):
    model = depth_model(feature_cache=dict(cache_dir=str(tmp_path)))
    inputs, samples = depth_batch()
    model.loss(inputs, samples)
    other_depth = inputs.clone()
    other_depth[:, 3:] += 1.0
    model.loss(other_depth, samples)
    cache = model.feature_cache.cache
    assert (cache.hits, cache.misses) == (2, 2)


def test_gradient_reaches_an_input_module_through_the_frozen_backbone(
    tmp_path,
):
    model = MODELS.build(
        tiny_segmentor_cfg(
            backbone_grad=True, feature_cache=dict(cache_dir=str(tmp_path))
        )
    ).double()
    model.init_weights()
    model.train()
    images = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    scale = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)

    def loss_of(factor):
        feats = model.extract_feat(factor * images)
        return feats[0].pow(2).mean()

    loss_of(scale).backward()
    cache = model.feature_cache.cache
    assert cache.hits + cache.misses == 0  # the graph-carrying call
    with torch.no_grad():
        loss_of(scale)
    assert cache.misses == 2  # no graph: the cache serves (and fills)
    model.eval()  # evaluation does not use the cache: exact features
    step = 1e-5
    with torch.no_grad():
        numeric = (loss_of(scale + step) - loss_of(scale - step)) / (2 * step)
    torch.testing.assert_close(scale.grad, numeric, rtol=1e-5, atol=1e-9)
    assert all(p.grad is None for p in model.backbone.parameters())
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert not model.backbone.training


def test_input_gradient_without_backbone_grad_is_an_error():
    model = MODELS.build(tiny_segmentor_cfg())
    images = torch.randn(1, 3, 32, 32, requires_grad=True)
    with pytest.raises(ValueError, match='backbone_grad=True'):
        model.extract_feat(images * 2)


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_runner_trains_and_tests_a_depth_head(tmp_path, mode):
    cfg = depth_demo_config(tmp_path / 'work', tmp_path / 'data', max_iters=4)
    cfg.model.decode_head = dict(
        type='DepthAwareHead', in_channels=96, channels=8
    )
    cfg.model.cluster_probe = dict(type='ClusterProbe', init='kmeans++')
    cfg.model.test_cfg = dict(
        mode=mode, crop_size=(32, 32), stride=(32, 32), flip=True
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert 0 <= metrics['mIoU'] <= 100
    head = runner.model.decode_head
    depth = head.seen_in_codes[-1]['depth']
    expected_window = 32 if mode == 'slide' else 64
    assert depth.shape[-2:] == (expected_window, expected_window)
    # the normalised depth of the synthetic maps: (1..11 m - 5) / 2
    assert -2.5 < float(depth.min()) and float(depth.max()) < 3.5
    # trained by the loss on depth-dependent codes (initialised to ones)
    assert not torch.equal(
        head.depth_weight, torch.ones_like(head.depth_weight)
    )


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_head_predicting_from_its_inputs(mode):
    """A head with ``predicts_from_inputs`` predicts from the depth at test
    time (whole and sliding windows, with flip); ``mode='tensor'`` still
    returns the D code channels."""
    test_cfg = dict(mode=mode, flip=True)
    if mode == 'slide':
        test_cfg.update(crop_size=(16, 16), stride=(8, 8))
    model = MODELS.build(
        tiny_segmentor_cfg(
            data_preprocessor=DEPTH_PREPROCESSOR,
            decode_head=dict(
                type='DepthPredictingHead', in_channels=32, channels=8
            ),
            num_classes=2,
            cluster_source='head',
            cluster_probe=None,
            linear=True,
            test_cfg=test_cfg,
        )
    ).eval()
    inputs, samples = depth_batch()
    inputs[:, 3:] = -1.0
    inputs[:, 3:, :, 16:] = 1.0  # the right half is deep
    with torch.no_grad():
        results = model.predict(inputs, samples)
        codes = model._forward(inputs, samples)
    assert codes.shape == (2, 8, 4, 4)
    for result in results:
        pred = result.pred_sem_seg.data[0]
        assert (pred[:, :14] == 0).all() and (pred[:, 18:] == 1).all()
        if mode == 'whole':  # sliding windows average overlapping scores
            probs = result.seg_logits.data.exp().sum(0)
            torch.testing.assert_close(probs, torch.ones_like(probs))
        assert result.pred_linear_sem_seg.data.shape == (1, 32, 32)


def test_knn_images_packed_with_their_maps_reach_the_backbone_as_colour():
    """A KNN positive packed by the same pipeline carries the depth channel
    too; the backbone is given its colour channels only."""
    from mmengine.structures import PixelData

    model = MODELS.build(
        tiny_segmentor_cfg(
            data_preprocessor=DEPTH_PREPROCESSOR,
            decode_head=dict(
                type='StegoHead',
                in_channels=32,
                channels=8,
                loss_corr=dict(type='StegoCorrespondenceLoss', num_samples=3),
            ),
            linear=False,
        )
    )
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].shape[1])
    )
    inputs, samples = depth_batch()
    for sample in samples:
        sample.knn_img = PixelData(data=torch.rand(4, 32, 32) * 255)
    losses = model.loss(inputs, samples)
    assert seen == [3, 3] and torch.isfinite(losses['decode.loss_corr'])
