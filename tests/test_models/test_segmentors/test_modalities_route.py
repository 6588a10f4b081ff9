# Copyright (c) mmuss contributors. All rights reserved.
"""The multi-modal route: aligned modality images stacked onto the image,
the frozen backbone run once per modality, features reaching the head in
training and at test time (whole, slide, flip, generated views), cached
under their own keys; pictures and CRF on the image."""

import pytest
import torch
from helpers import (
    MODALITY_PREPROCESSOR,
    make_samples,
    modality_demo_config,
    tiny_segmentor_cfg,
)
from mmengine.config import ConfigDict
from mmengine.runner import Runner
from mmseg.registry import MODELS
from route_heads import TwoModalityHead  # noqa: F401 (registers it)

from mmuss.models.decode_heads import BaseCodeHead, HeadInputs


def modality_model(head='TwoModalityHead', **overrides):
    cfg = tiny_segmentor_cfg(
        data_preprocessor=MODALITY_PREPROCESSOR,
        decode_head=dict(type=head, in_channels=32, channels=8),
        linear=False,
        **overrides,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def modality_batch(batch_size=2, size=32):
    inputs = torch.randn(batch_size, 6, size, size)
    samples = make_samples(batch_size, size, size, 3)
    for sample in samples:
        sample.set_metainfo(dict(aux_channels=(('colourmap', 3),)))
    return inputs, samples


def record_backbone_inputs(model):
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].detach().clone())
    )
    return seen


def test_backbone_runs_once_per_modality_in_training():
    model = modality_model()
    seen = record_backbone_inputs(model)
    inputs, samples = modality_batch()
    losses = model.loss(inputs, samples)
    assert len(seen) == 2
    torch.testing.assert_close(seen[0], inputs[:, :3])
    torch.testing.assert_close(seen[1], inputs[:, 3:])
    received = model.decode_head.seen_modalities[0]
    with torch.no_grad():
        expected = model.backbone(inputs[:, 3:])
    torch.testing.assert_close(received[-1], expected[-1])
    losses['decode.loss_spread'].backward()
    fusion = model.decode_head.fusion.project[0]
    assert fusion.weight.grad.abs().sum() > 0


def test_modalities_follow_flip_slide_and_generated_views():
    model = modality_model(
        view_generators=dict(hflip=dict(type='HorizontalFlipView')),
        test_cfg=dict(mode='whole', flip=True, tta_views=['hflip']),
    ).eval()
    seen = record_backbone_inputs(model)
    inputs, samples = modality_batch()
    with torch.no_grad():
        model.predict(inputs, samples)
    # image, flip and the flip view's image and flip: 4 passes x 2
    assert len(seen) == 8
    second = inputs[:, 3:]
    for index, expected in enumerate(
        [second, second.flip(-1), second.flip(-1), second]
    ):
        torch.testing.assert_close(seen[2 * index + 1], expected)
    model.test_cfg = ConfigDict(
        mode='slide', crop_size=(16, 16), stride=(16, 16)
    )
    seen.clear()
    with torch.no_grad():
        results = model.predict(inputs, samples)
    windows = [
        second[:, :, top : top + 16, left : left + 16]
        for top in (0, 16)
        for left in (0, 16)
    ]
    assert len(seen) == 8
    for window, received in zip(windows, seen[1::2]):
        torch.testing.assert_close(received, window)
    assert results[0].pred_sem_seg.data.shape == (1, 32, 32)


def test_photometric_view_leaves_the_modality_alone():
    model = modality_model(
        view_generators=dict(
            bright=dict(type='PixelAffineView', learnable=False)
        ),
        test_cfg=dict(mode='whole', tta_views=['bright']),
    ).eval()
    seen = record_backbone_inputs(model)
    inputs, samples = modality_batch()
    with torch.no_grad():
        model.predict(inputs, samples)
    torch.testing.assert_close(seen[3], inputs[:, 3:])


def test_feature_cache_keys_each_modality_apart(tmp_path):
    model = modality_model(feature_cache=dict(cache_dir=str(tmp_path)))
    inputs, samples = modality_batch()
    inputs[:, 3:] = inputs[:, :3]  # same pixels in both modalities
    model.loss(inputs, samples)
    cache = model.feature_cache.cache
    assert (cache.hits, cache.misses) == (0, 4)
    model.loss(inputs, samples)
    assert (cache.hits, cache.misses) == (4, 4)


def test_pictures_and_crf_guide_use_the_image_only():
    model = modality_model()
    inputs, _ = modality_batch()
    pictures = model.unnormalized_images(inputs)
    assert pictures[0].shape == (32, 32, 3)
    image_only = MODELS.build(tiny_segmentor_cfg(linear=False))
    for ours, reference in zip(
        pictures, image_only.unnormalized_images(inputs[:, :3])
    ):
        assert (ours == reference).all()


def test_undeclared_modalities_are_errors():
    @MODELS.register_module(force=True)
    class ThermalHead(TwoModalityHead):
        required_modalities = ('thermal',)

    model = modality_model('ThermalHead')
    with pytest.raises(ValueError, match=r"\['thermal'\].*LoadModality"):
        model.loss(*modality_batch())

    @MODELS.register_module(force=True)
    class ImageModalityHead(TwoModalityHead):
        required_modalities = ('image',)

    model = modality_model('ImageModalityHead')
    with pytest.raises(ValueError, match='HeadInputs.feats'):
        model.loss(*modality_batch())


def test_head_inputs_name_what_is_missing():
    head_inputs = HeadInputs([torch.zeros(1)], views=dict(knn_img=[]))
    assert head_inputs.view('knn_img') == []
    with pytest.raises(KeyError, match=r"'depth'.*\[\].*required_inputs"):
        head_inputs.dense('depth')
    with pytest.raises(KeyError, match=r"'hha'.*required_modalities"):
        head_inputs.modality('hha')
    with pytest.raises(KeyError, match=r"\['knn_img'\].*required_views"):
        head_inputs.view('student_img')


def test_test_time_head_inputs_carry_the_metainfo():
    seen = []

    @MODELS.register_module(force=True)
    class MetaHead(TwoModalityHead):
        def compute_codes(self, head_inputs):
            seen.append([meta['img_path'] for meta in head_inputs.img_metas])
            return super().compute_codes(head_inputs)

    model = modality_model(
        'MetaHead',
        test_cfg=dict(mode='slide', crop_size=(16, 16), stride=(16, 16)),
    ).eval()
    inputs, samples = modality_batch()
    for index, sample in enumerate(samples):
        sample.set_metainfo(dict(img_path=f'scene_{index}.png'))
    with torch.no_grad():
        model.predict(inputs, samples)
    assert seen == [['scene_0.png', 'scene_1.png']] * 4
    assert issubclass(MetaHead, BaseCodeHead)


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_runner_trains_and_tests_on_two_modalities(tmp_path, mode):
    cfg = modality_demo_config(
        tmp_path / 'work', tmp_path / 'data', max_iters=4
    )
    cfg.model.decode_head = dict(
        type='TwoModalityHead', in_channels=96, channels=8
    )
    cfg.model.cluster_probe = dict(type='ClusterProbe', init='kmeans++')
    cfg.model.test_cfg = dict(
        mode=mode, crop_size=(32, 32), stride=(32, 32), flip=True
    )
    runner = Runner.from_cfg(cfg)
    seen = record_backbone_inputs(runner.model)
    runner.train()
    metrics = runner.test()
    assert 0 <= metrics['mIoU'] <= 100
    # the second modality, as LoadModality stacked and the preprocessor
    # normalised it (colour-map values, (v - 127.5) / 64), reached the
    # backbone apart from the image
    second = seen[-1]
    window = 32 if mode == 'slide' else 64
    assert second.shape[1:] == (3, window, window)
    assert float(second.abs().max()) <= 127.5 / 64 + 1e-5
    assert not torch.allclose(second, seen[-2])
