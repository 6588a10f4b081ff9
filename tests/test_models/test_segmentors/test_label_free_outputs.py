# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
from helpers import ProjectionCodeHead, make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS
from route_heads import TwoModalityHead
from test_modalities_route import modality_batch, modality_model

from mmuss.models.decode_heads import BaseCodeHead
from mmuss.models.segmentors.label_free_outputs import (
    nearest_in_batch,
    photometric_change,
)


@MODELS.register_module(force=True)
class StatefulCodeHead(ProjectionCodeHead, BaseCodeHead):
    """A head whose loss moves a buffer in place, as EMA heads do, and
    needs a view the validation samples lack (tests only)."""

    required_views = ('knn_img',)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.register_buffer('ema', torch.zeros(()))
        self.seen = []

    def loss_by_codes(self, codes, head_inputs):
        self.ema += 1
        self.seen.append(head_inputs)
        knn = self.forward(head_inputs.views['knn_img'])
        return dict(loss_code=codes.pow(2).mean(), loss_knn=knn.mean())


def build(**test_cfg):
    cfg = tiny_segmentor_cfg(
        decode_head=dict(type='StatefulCodeHead', in_channels=32, channels=6),
        test_cfg=dict(mode='whole', **test_cfg),
    )
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def predict(model, batch_size=3, with_gt=True, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(
        0, 256, (batch_size, 3, 32, 32), generator=generator
    )
    samples = make_samples(batch_size, 32, 32, 3, with_gt, seed=seed)
    data = model.data_preprocessor(
        dict(inputs=list(images.byte()), data_samples=samples), False
    )
    with torch.no_grad():
        return model.predict(data['inputs'], data['data_samples']), data


def test_outputs_only_when_switched_on():
    results, _ = predict(build())
    assert 'label_free' not in results[0]


def test_outputs_shapes_flip_view_and_objective():
    model = build(selection=dict(views=['flip', 'photometric']))
    results, data = predict(model)
    outputs = results[0].label_free
    assert outputs['codes'].shape == (6, 4, 4)
    assert outputs['probs'].shape == (3, 4, 4)
    assert outputs['features'].shape == (32, 4, 4)
    assert outputs['view_probs'].shape == (2, 3, 4, 4)
    assert outputs['view_names'] == ['flip', 'photometric']
    inputs = data['inputs']
    with torch.no_grad():
        flipped = model.cluster_probabilities(model._codes_of(inputs.flip(-1)))
    torch.testing.assert_close(outputs['view_probs'][0], flipped[0].flip(-1))
    # the objective is the head's loss, its in-place state restored, and
    # the missing knn view is each image's nearest other image
    assert float(model.decode_head.ema) == 0.0
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        codes = model.decode_head(feats)
        order = nearest_in_batch(feats[-1])
        knn = model.decode_head([f[order] for f in feats])
    expected = codes.pow(2).mean() + knn.mean()
    assert outputs['objective'] == pytest.approx(float(expected), rel=1e-5)
    assert all(
        'gt_sem_seg' not in s for s in model.decode_head.seen[0].data_samples
    )


def test_outputs_do_not_depend_on_labels():
    model = build(selection=True)
    with_gt, _ = predict(model, with_gt=True)
    without, _ = predict(model, with_gt=False)
    for a, b in zip(with_gt, without):
        for key in ('codes', 'probs', 'features', 'view_probs'):
            torch.testing.assert_close(a.label_free[key], b.label_free[key])
        assert a.label_free['objective'] == b.label_free['objective']


def test_bad_selection_options_are_named():
    with pytest.raises(KeyError, match='unknown keys'):
        predict(build(selection=dict(view=['flip'])))
    with pytest.raises(KeyError, match='rotate'):
        predict(build(selection=dict(views=['rotate'])))
    with pytest.raises(ValueError, match='knn_img'):
        predict(build(selection=dict(missing_views='error')))


def test_nearest_in_batch_and_photometric_change_hand_computed():
    feats = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])[..., None, None]
    assert nearest_in_batch(feats).tolist() == [1, 0, 1]
    assert nearest_in_batch(feats[:1]).tolist() == [0]
    pixels = torch.tensor([0.0, 100.0, 200.0, 250.0]).reshape(1, 1, 2, 2)
    pixels = pixels.expand(1, 3, 2, 2)
    # mean 137.5; contrast 0.8 about it, +10, clipped
    changed = photometric_change(pixels, contrast=0.8, brightness=10.0)
    expected = torch.tensor([37.5, 117.5, 197.5, 237.5]).reshape(1, 1, 2, 2)
    torch.testing.assert_close(changed[:, :1], expected)
    assert photometric_change(pixels, 2.0, 100.0).max() == 255


@pytest.mark.parametrize(
    'missing_views, head_rule',
    [(dict(knn_img='self'), None), (None, 'self'), ('self', 'nearest')],
)
def test_self_stand_in_per_field_or_declared_by_the_head(
    missing_views, head_rule
):
    model = build(selection=dict(missing_views=missing_views))
    if head_rule:
        model.decode_head.view_stand_ins = dict(knn_img=head_rule)
    results, data = predict(model)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        codes = model.decode_head(feats)
    # the view is the image itself: loss_knn is the codes' mean
    expected = codes.pow(2).mean() + codes.mean()
    assert results[0].label_free['objective'] == pytest.approx(
        float(expected), rel=1e-5
    )


def test_bad_stand_in_rules_are_named():
    with pytest.raises(ValueError, match='nearby'):
        predict(build(selection=dict(missing_views=dict(knn_img='nearby'))))


@MODELS.register_module(force=True)
class KnnModalityHead(TwoModalityHead):
    """A two-modality head whose loss reads a KNN view's modality
    features, as UniM2's does (tests only)."""

    required_views = ('knn_img',)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen_view_modalities = []

    def loss_by_codes(self, codes, head_inputs):
        second = head_inputs.view_modality('knn_img', 'colourmap')
        self.seen_view_modalities.append([f.clone() for f in second])
        knn = self.fusion([head_inputs.view('knn_img')[-1], second[-1]])
        return dict(loss_knn=knn.mean())


@pytest.mark.parametrize('rule', ['nearest', 'self'])
def test_stand_in_views_carry_their_modality_features(rule):
    model = modality_model(
        head='KnnModalityHead',
        test_cfg=dict(mode='whole', selection=dict(missing_views=rule)),
    ).eval()
    inputs, samples = modality_batch(batch_size=3)
    with torch.no_grad():
        results = model.predict(inputs, samples)
        image = model.backbone(inputs[:, :3])
        second = model.backbone(inputs[:, 3:])
    order = nearest_in_batch(image[-1]) if rule == 'nearest' else [0, 1, 2]
    received = model.decode_head.seen_view_modalities[-1]
    torch.testing.assert_close(received[-1], second[-1][order])
    assert all(
        r.label_free['objective'] == results[0].label_free['objective']
        for r in results
    )
