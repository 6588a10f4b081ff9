# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
import torch
from helpers import make_samples, tiny_stego_cfg
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmuss.models.decode_heads import HeadInputs, StegoHead


def test_projection_branches_and_shapes():
    head = StegoHead(in_channels=16, channels=7).eval()
    feats = [torch.randn(2, 16, 5, 5)]
    codes = head(feats)
    assert codes.shape == (2, 7, 5, 5)
    expected = head.linear(feats[0]) + head.nonlinear(feats[0])
    torch.testing.assert_close(codes, expected)  # no dropout in eval
    linear = StegoHead(in_channels=16, channels=7, projection='linear').eval()
    torch.testing.assert_close(linear(feats), linear.linear(feats[0]))
    assert head.required_views == ('knn_img',)
    with pytest.raises(ValueError, match='projection'):
        StegoHead(in_channels=16, projection='mlp')


def test_dropout_is_independent_per_branch_in_training():
    torch.manual_seed(0)
    head = StegoHead(in_channels=16, channels=7, dropout_ratio=0.5).train()
    feats = torch.randn(1, 16, 4, 4)
    first, second = head._drop(feats), head._drop(feats)
    assert not torch.equal(first, second)


def test_loss_uses_knn_view_and_requires_it():
    head = StegoHead(
        in_channels=16,
        channels=7,
        loss_corr=dict(type='StegoCorrespondenceLoss', num_samples=3),
    )
    feats = [torch.randn(2, 16, 5, 5)]
    codes = head(feats)
    losses = head.loss_by_codes(
        codes,
        HeadInputs(feats, views=dict(knn_img=[torch.randn(2, 16, 5, 5)])),
    )
    assert set(losses) == {'loss_corr', 'corr_self', 'corr_knn', 'corr_rand'}
    losses['loss_corr'].backward()
    assert head.linear.weight.grad is not None
    with pytest.raises(RuntimeError, match='needs the views'):
        head.loss(feats, [], {})


def test_cross_view_term_pairs_the_image_with_its_view():
    """With ``cross_view`` the view takes the KNN slot of a second loss:
    its value equals that loss on (image, view) by hand, and its gradient
    reaches the view's features (a learned view trains through it)."""
    torch.manual_seed(0)
    corr = dict(type='StegoCorrespondenceLoss', num_samples=3)
    head = StegoHead(
        in_channels=16,
        channels=7,
        dropout_ratio=0.0,
        loss_corr=corr,
        knn_view=None,
        cross_view='sa',
        loss_cross_view=dict(corr, weight_self=0, weight_rand=0),
    )
    assert head.required_views == ('sa',)
    head.loss_corr.weights['knn'] = 0.0
    feats = [torch.randn(2, 16, 5, 5)]
    view = [torch.randn(2, 16, 5, 5, requires_grad=True)]
    codes = head(feats)
    torch.manual_seed(1)
    losses = head.loss_by_codes(codes, HeadInputs(feats, views=dict(sa=view)))
    assert {'loss_view_corr', 'view_corr_knn', 'loss_corr'} <= set(losses)
    assert 'view_corr_self' not in losses
    torch.manual_seed(1)
    head.loss_corr(feats[0], codes)  # same random draws as in the head
    expected = head.loss_cross_view(feats[0], codes, view[0], head(view))
    torch.testing.assert_close(
        losses['loss_view_corr'], expected['loss_view_corr']
    )
    losses['loss_view_corr'].backward()
    assert view[0].grad.abs().sum() > 0


def knn_samples(num, size, num_classes=3):
    samples = make_samples(num, size, size, num_classes)
    for sample in samples:
        sample.knn_img = PixelData(
            data=torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        )
    return samples


def stego_model():
    cfg = tiny_stego_cfg()
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_segmentor_feeds_knn_images_through_the_frozen_backbone():
    model = stego_model().train()
    samples = knn_samples(2, 32)
    raw = [
        torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8) for _ in samples
    ]
    data = model.data_preprocessor(
        dict(inputs=raw, data_samples=samples), True
    )
    view = model.view_features(data['data_samples'], 'knn_img', data['inputs'])
    expected = model.extract_feat(
        model.data_preprocessor(
            dict(inputs=[s.knn_img.data for s in samples]), False
        )['inputs']
    )
    torch.testing.assert_close(view[-1], expected[-1])
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {
        'decode.loss_corr',
        'decode.corr_knn',
        'cluster_probe.loss',
        'linear_probe.loss',
    } <= set(losses)
    parsed, _ = model.parse_losses(losses)
    parsed.backward()
    assert model.decode_head.linear.weight.grad is not None
    assert all(p.grad is None for p in model.backbone.parameters())


def test_missing_knn_images_point_to_the_tool():
    model = stego_model()
    inputs = torch.randn(2, 3, 32, 32)
    with pytest.raises(ValueError, match='precompute_knn.py'):
        model.loss(inputs, make_samples(2, 32, 32, 3))


def test_batch_of_one_is_reported():
    model = stego_model()
    inputs = torch.randn(1, 3, 32, 32)
    with pytest.raises(ValueError, match='at least 2 images per batch'):
        model.loss(inputs, knn_samples(1, 32))


def test_view_of_another_size_is_reported():
    model = stego_model()
    inputs = torch.randn(2, 3, 32, 32)
    with pytest.raises(ValueError, match='same pipeline'):
        model.loss(inputs, knn_samples(2, 48))


def test_stego_trains_through_the_runner_with_knn_pairs(tmp_path):
    from helpers import demo_config
    from mmengine.runner import Runner

    from mmuss.datasets.preparation import save_knn_file

    cfg = demo_config(
        tmp_path / 'work', tmp_path / 'data', max_iters=3, val_interval=3
    )
    inner = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = dict(
        type='KNNPairDataset', knn_file='nns/knn.npz', dataset=inner
    )
    cfg.model.decode_head = dict(type='StegoHead', in_channels=96, channels=16)
    from mmuss.datasets import SyntheticScenesDataset

    SyntheticScenesDataset(
        data_root=str(tmp_path / 'data'),
        num_train=16,
        num_val=8,
        num_test=4,
        image_size=64,
    )
    nns = np.array(
        [[i] + [(i + r) % 16 for r in range(1, 10)] for i in range(16)]
    )
    save_knn_file(
        str(tmp_path / 'data' / 'nns' / 'knn.npz'),
        nns,
        [f'images/train/{i:05d}.png' for i in range(16)],
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 3
