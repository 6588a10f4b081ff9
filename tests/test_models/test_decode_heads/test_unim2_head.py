# Copyright (c) mmuss contributors. All rights reserved.
"""UniM2Head inside the segmentor: MSN + fusion + projection codes, CMH,
CMCS against the STEGO loss called by hand on the right tensors, KNN
positives with their modalities, alignment baselines, missing-modality
evaluation."""

import pytest
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmuss.models.losses import StegoCorrespondenceLoss

WEIGHTS = dict(
    weight_self=0.3,
    weight_knn=0.4,
    weight_rand=0.5,
    shift_self=0.2,
    shift_knn=0.1,
    shift_rand=0.3,
)


def preprocessor(*names):
    return dict(
        type='USSDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size=(32, 32),
        aux_channels=[
            dict(
                name=name,
                channels=3,
                modality=True,
                mean=[100.0 + i] * 3,
                std=[50.0 + i] * 3,
            )
            for i, name in enumerate(names)
        ],
    )


def unim2_model(modalities=('depth',), **head):
    cmcs = dict(
        type='CMCSLoss',
        num_samples=3,
        num_negatives=2,
        modalities={
            name: dict(WEIGHTS, loss_weight=0.5 + i)
            for i, name in enumerate(('image', *modalities))
        },
    )
    cfg = tiny_segmentor_cfg(
        data_preprocessor=preprocessor(*modalities),
        decode_head=dict(
            type='UniM2Head',
            in_channels=32,
            channels=6,
            modalities=modalities,
            loss_cmcs=cmcs,
            **head,
        ),
        linear=False,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(modalities=('depth',), batch_size=3, knn=True, seed=0):
    generator = torch.Generator().manual_seed(seed)
    channels = 3 * (1 + len(modalities))
    inputs = torch.randn(batch_size, channels, 32, 32, generator=generator)
    samples = make_samples(batch_size, 32, 32, 3)
    for sample in samples:
        sample.set_metainfo(
            dict(aux_channels=tuple((name, 3) for name in modalities))
        )
        if knn:
            pixels = torch.rand(channels, 32, 32, generator=generator) * 255
            sample.knn_img = PixelData(data=pixels)
    return inputs, samples


def frozen(model, images):
    with torch.no_grad():
        return model.backbone(images)[-1]


def test_codes_are_msn_fusion_projection_by_hand():
    model = unim2_model().eval()
    inputs, samples = batch(knn=False)
    head = model.decode_head
    with torch.no_grad():
        codes = model.test_codes(inputs)
        raw = [frozen(model, inputs[:, :3]), frozen(model, inputs[:, 3:])]
        refined = [
            F.normalize(head.msn[name](feats), dim=1)
            for name, feats in zip(('image', 'depth'), raw)
        ]
        fused = head.fusion.project(torch.cat(refined, 1))
        expected = head.linear(fused) + head.nonlinear(fused)
    torch.testing.assert_close(codes, expected)


def test_cmcs_is_the_stego_loss_on_raw_features_against_s_and_s_x():
    """Image: raw image features vs S; depth: raw depth features vs
    S_X = CMH(S); KNN positive's own modality features; modality weights
    0.5 and 1.5. Dropout off so the codes are reproducible."""
    model = unim2_model(dropout_ratio=0.0)
    inputs, samples = batch()
    head = model.decode_head
    torch.manual_seed(5)
    losses = model.loss(inputs, samples)

    knn = model._preprocess_view(
        torch.stack([s.knn_img.data for s in samples])
    )
    raw = {
        'image': frozen(model, inputs[:, :3]),
        'depth': frozen(model, inputs[:, 3:]),
    }
    knn_raw = {
        'image': frozen(model, knn[:, :3]),
        'depth': frozen(model, knn[:, 3:]),
    }
    codes = head.codes_of(raw)
    knn_codes = head.codes_of(knn_raw)
    paired = {'image': codes, 'depth': head.cmh(codes)}
    knn_paired = {'image': knn_codes, 'depth': head.cmh(knn_codes)}
    torch.manual_seed(5)
    expected = 0
    for name, weight in (('image', 0.5), ('depth', 1.5)):
        stego = StegoCorrespondenceLoss(
            **WEIGHTS, num_samples=3, num_negatives=2, centering='stego'
        )
        terms = stego(raw[name], paired[name], knn_raw[name], knn_paired[name])
        expected = expected + weight * terms['loss_corr']
    torch.testing.assert_close(losses['decode.loss_cmcs'], expected)


def test_training_step_trains_msn_fusion_projection_and_cmh():
    model = unim2_model()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    losses['decode.loss_cmcs'].backward()
    head = model.decode_head
    for module in (
        head.msn['image'],
        head.msn['depth'],
        head.fusion,
        head.linear,
        head.cmh,
    ):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in model.backbone.parameters())


def test_three_modalities_and_progressive_fusion():
    model = unim2_model(
        modalities=('aolp', 'dolp'),
        fusion=dict(mode='progressive_conv', normalize=True),
    )
    inputs, samples = batch(('aolp', 'dolp'))
    losses = model.loss(inputs, samples)
    assert {'decode.cmcs_aolp_knn', 'decode.cmcs_dolp_rand'} <= set(losses)
    assert torch.isfinite(losses['decode.loss_cmcs'])


@pytest.mark.parametrize('mode', ['coral', 'mmd', 'cosine'])
def test_alignment_baseline_with_cmcs_and_cmh_off(mode):
    """Table 2 rows: STEGO on the fused code against the image features
    only, plus the alignment of each MSN output to the image features."""
    cfg_cmcs = dict(
        type='CMCSLoss',
        num_samples=3,
        num_negatives=2,
        modalities=dict(image=WEIGHTS),
    )
    model = MODELS.build(
        tiny_segmentor_cfg(
            data_preprocessor=preprocessor('depth'),
            decode_head=dict(
                type='UniM2Head',
                in_channels=32,
                channels=6,
                modalities=('depth',),
                fusion=dict(mode='sum', normalize=True),
                use_cmh=False,
                loss_cmcs=cfg_cmcs,
                loss_align=dict(type='ModalityAlignmentLoss', mode=mode),
            ),
            linear=False,
        )
    )
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert model.decode_head.cmh is None
    assert 'decode.cmcs_depth' not in losses
    raw = [frozen(model, inputs[:, :3]), frozen(model, inputs[:, 3:])]
    projected = model.decode_head.msn['depth'](raw[1])
    reference = MODELS.build(dict(type='ModalityAlignmentLoss', mode=mode))
    if mode != 'mmd':  # mmd subsamples at random
        torch.testing.assert_close(
            losses['decode.loss_align'],
            reference(raw[0], {'depth': projected})['loss_align'],
        )
    losses['decode.loss_align'].backward()
    assert model.decode_head.msn['depth'].layers[0].weight.grad is not None


def test_knn_view_without_modality_channels_is_named():
    model = unim2_model()
    inputs, samples = batch()
    for sample in samples:
        sample.knn_img = PixelData(data=sample.knn_img.data[:3])
    with pytest.raises(ValueError, match='knn_img.*packed with its modality'):
        model.loss(inputs, samples)


def test_bad_configurations_are_named():
    with pytest.raises(ValueError, match="names \\['thermal'\\]"):
        MODELS.build(
            dict(
                type='UniM2Head',
                in_channels=32,
                modalities=('depth',),
                loss_cmcs=dict(type='CMCSLoss', modalities=dict(thermal={})),
            )
        )
    with pytest.raises(ValueError, match='use_cmh=True'):
        MODELS.build(
            dict(
                type='UniM2Head',
                in_channels=32,
                modalities=('depth',),
                loss_cmcs=dict(type='CMCSLoss', modalities=dict(image={})),
            )
        )
    with pytest.raises(ValueError, match='distinct'):
        MODELS.build(
            dict(type='UniM2Head', in_channels=32, modalities=('image',))
        )


@pytest.mark.parametrize('fill', ['zeros', 'image'])
def test_missing_modality_at_test_time(fill):
    """test_cfg.missing_modalities: the depth branch sees a black frame
    (pixel 0 normalised with depth's mean/std) or the image's pixels."""
    model = unim2_model().eval()
    model.test_cfg.missing_modalities = ['depth']
    model.test_cfg.missing_modality_fill = fill
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].detach().clone())
    )
    inputs, samples = batch(knn=False)
    with torch.no_grad():
        result = model.predict(inputs, samples)
    assert len(seen) == 2
    if fill == 'zeros':
        expected = torch.full_like(inputs[:, 3:], -100.0 / 50.0)
    else:
        pixels = model.data_preprocessor.denormalize_image(inputs)
        expected = (pixels - 100.0) / 50.0
    torch.testing.assert_close(seen[1], expected)
    torch.testing.assert_close(seen[0], inputs[:, :3])
    assert result[0].pred_sem_seg.data.shape == (1, 32, 32)
    # training is untouched by the test-time setting
    model.train()
    seen.clear()
    model.loss(*batch())
    torch.testing.assert_close(seen[1], batch()[0][:, 3:])


def test_missing_modality_errors_name_the_key():
    model = unim2_model().eval()
    inputs, samples = batch(knn=False)
    model.test_cfg.missing_modalities = ['thermal']
    with pytest.raises(
        ValueError, match="missing_modalities names \\['thermal'\\]"
    ):
        model.predict(inputs, samples)
    model.test_cfg.missing_modalities = ['depth']
    model.test_cfg.missing_modality_fill = 'noise'
    with pytest.raises(ValueError, match="missing_modality_fill.*'noise'"):
        model.predict(inputs, samples)
