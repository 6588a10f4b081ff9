# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmuss.models.decode_heads import HeadInputs, PrimapsHead
from mmuss.models.utils.primaps import principal_mask_proposals


def primaps_samples(num, size, num_classes=3):
    samples = make_samples(num, size, size, num_classes)
    for sample in samples:
        masks = torch.full((1, size, size), 255, dtype=torch.long)
        masks[0, :, : size // 2] = 1
        masks[0, :, size // 2 :] = 2
        sample.primaps_map = PixelData(data=masks)
        sample.student_img = PixelData(
            data=torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        )
    return samples


def initialised_head(kmeans_iters=2):
    head = PrimapsHead(in_channels=8, num_prototypes=3)
    head.set_prototypes(F.normalize(torch.randn(3, 8), dim=1), kmeans_iters)
    return head


def test_phases_kmeans_then_em():
    torch.manual_seed(0)
    head = initialised_head(kmeans_iters=2)
    feats = [torch.randn(2, 8, 4, 4)]
    samples = primaps_samples(2, 8)
    views = dict(student_img=[torch.randn(2, 8, 4, 4)])
    for _ in range(2):
        losses = head.loss_by_codes(
            head(feats), HeadInputs(feats, data_samples=samples, views=views)
        )
        assert set(losses) == {'loss_kmeans'}
        losses['loss_kmeans'].backward()
        # theta_T equals theta_S while initialising
        torch.testing.assert_close(
            head.prototypes.teacher, head.prototypes.student.detach()
        )
    assert not head.in_em_phase
    losses = head.loss_by_codes(
        head(feats), HeadInputs(feats, data_samples=samples, views=views)
    )
    assert set(losses) == {'loss_focal', 'pseudo_coverage'}
    assert head.in_em_phase
    head.zero_grad()
    losses['loss_focal'].backward()
    assert head.prototypes.student.grad.abs().sum() > 0


def test_em_step_pseudo_labels_are_mask_modes_of_the_teacher():
    torch.manual_seed(0)
    head = initialised_head(kmeans_iters=0)
    feats = [torch.randn(1, 8, 8, 8)]
    samples = primaps_samples(1, 8)
    codes = head(feats)
    teacher = F.interpolate(
        torch.einsum(
            'bchw,kc->bkhw',
            F.normalize(codes, dim=1),
            F.normalize(head.prototypes.teacher, dim=1),
        ),
        size=(8, 8),
        mode='bilinear',
    ).argmax(1)
    left = teacher[0, :, :4].flatten().mode().values
    student_codes = torch.randn(1, 8, 8, 8)
    losses = head.loss_by_codes(
        codes,
        HeadInputs(
            feats,
            data_samples=samples,
            views=dict(student_img=[student_codes]),
        ),
    )
    from mmuss.models.losses import primaps_focal_loss

    pseudo = torch.empty(1, 8, 8, dtype=torch.long)
    pseudo[0, :, :4] = left
    pseudo[0, :, 4:] = teacher[0, :, 4:].flatten().mode().values
    logits = torch.einsum(
        'bchw,kc->bkhw',
        student_codes,
        F.normalize(head.prototypes.student, dim=1),
    )
    torch.testing.assert_close(
        losses['loss_focal'], primaps_focal_loss(logits, pseudo)
    )


def test_ema_update_rule_with_and_without_warmup():
    head = initialised_head()
    with torch.no_grad():
        head.prototypes.student.add_(1.0)
    before = head.prototypes.teacher.clone()
    head.update_teacher()
    torch.testing.assert_close(
        head.prototypes.teacher,
        0.98 * before + 0.02 * head.prototypes.student.detach(),
    )
    warm = initialised_head()
    warm.prototypes.momentum_warmup = True
    with torch.no_grad():
        warm.prototypes.student.add_(1.0)
    warm.update_teacher()  # first update: decay min(0.98, 0) = 0 -> copy
    torch.testing.assert_close(
        warm.prototypes.teacher, warm.prototypes.student.detach()
    )


def test_uninitialised_head_and_missing_masks_are_reported():
    head = PrimapsHead(in_channels=8, num_prototypes=3)
    feats = [torch.randn(2, 8, 4, 4)]
    with pytest.raises(RuntimeError, match='PrimapsInitHook'):
        head.loss_by_codes(head(feats), HeadInputs(feats))
    head = initialised_head(kmeans_iters=0)
    samples = make_samples(2, 8, 8, 3)
    with pytest.raises(ValueError, match='precompute_primaps.py'):
        head.loss_by_codes(
            head(feats),
            HeadInputs(
                feats,
                data_samples=samples,
                views=dict(student_img=[torch.randn(2, 8, 4, 4)]),
            ),
        )


@pytest.mark.parametrize('online', [True, False])
def test_online_proposals_without_precomputed_masks(online):
    torch.manual_seed(0)
    head = PrimapsHead(
        in_channels=8, num_prototypes=3, online_proposals=online
    )
    head.set_prototypes(F.normalize(torch.randn(3, 8), dim=1), 0)
    feats = [torch.randn(2, 8, 4, 4)]
    inputs = HeadInputs(
        feats,
        data_samples=make_samples(2, 8, 8, 3),
        views=dict(student_img=[torch.randn(2, 8, 4, 4)]),
    )
    if not online:  # training refuses, evaluation falls back
        with pytest.raises(ValueError, match='precompute_primaps.py'):
            head.loss_by_codes(head(feats), inputs)
        head.eval()
    masks = head.proposal_maps(head(feats), feats, inputs.data_samples)
    expected = principal_mask_proposals(feats[-1], psi=head.psi)
    torch.testing.assert_close(
        masks, torch.where(expected == 0, 255, expected)
    )
    assert head.loss_by_codes(head(feats), inputs)['loss_focal'].isfinite()


def test_orthogonal_use_on_frozen_stego_codes(tmp_path):
    stego = dict(type='StegoHead', in_channels=8, channels=5)
    source = MODELS.build(stego)
    torch.save(
        {
            'state_dict': {
                f'decode_head.{k}': v for k, v in source.state_dict().items()
            }
        },
        tmp_path / 'stego.pth',
    )
    head = PrimapsHead(
        in_channels=8,
        num_prototypes=3,
        feature_head=stego,
        feature_head_checkpoint=str(tmp_path / 'stego.pth'),
    )
    head.init_weights()
    assert head.prototypes.student.shape == (3, 5)
    assert all(not p.requires_grad for p in head.feature_head.parameters())
    head.train()
    assert not head.feature_head.training
    feats = [torch.randn(1, 8, 4, 4)]
    torch.testing.assert_close(head(feats), source.eval()(feats))


def test_segmentor_predicts_with_momentum_prototypes():
    cfg = tiny_segmentor_cfg(
        decode_head=dict(type='PrimapsHead', in_channels=32, num_prototypes=3),
        cluster_source='head',
        cluster_probe=None,
    )
    model = MODELS.build(cfg)
    model.init_weights()
    model.decode_head.set_prototypes(F.normalize(torch.randn(3, 32), dim=1), 0)
    inputs = torch.randn(2, 3, 32, 32)
    samples = primaps_samples(2, 32)
    losses = model.loss(inputs, samples)
    assert {'decode.loss_focal', 'linear_probe.loss'} <= set(losses)
    model.eval()
    with torch.no_grad():
        result = model.predict(inputs, samples)[0]
    assert result.pred_sem_seg.data.max() < 3


def test_kmeans_phase_reseeds_prototypes_that_win_nothing():
    torch.manual_seed(0)
    head = PrimapsHead(
        in_channels=4, num_prototypes=2, kmeans_reseed_interval=2
    )
    # every feature points along +x; prototype 1 (-x) is never the closest
    feats = torch.zeros(1, 4, 3, 3)
    feats[:, 0] = 1.0
    feats[:, 1, 0, 0] = 0.5  # two distinct directions to draw from
    live, dead = torch.tensor([1.0, 0, 0, 0]), torch.tensor([-1.0, 0, 0, 0])
    head.set_prototypes(torch.stack([live, dead]), kmeans_iters=10)
    samples = primaps_samples(1, 6)
    head.loss_by_codes(
        head([feats]), HeadInputs([feats], data_samples=samples)
    )
    torch.testing.assert_close(
        head.prototypes.student.data[1], dead
    )  # not yet
    head.loss_by_codes(
        head([feats]), HeadInputs([feats], data_samples=samples)
    )
    # re-seeded onto a feature (k-means++: the one unlike prototype 0)
    reseeded = head.prototypes.student.data[1]
    expected = F.normalize(torch.tensor([1.0, 0.5, 0, 0]), dim=0)
    torch.testing.assert_close(reseeded, expected)
    torch.testing.assert_close(head.prototypes.student.data[0], live)
    assert int(head.usage.sum()) == 0  # counts restart


def test_kmeans_reseeding_is_off_by_default():
    head = initialised_head(kmeans_iters=4)
    before = head.prototypes.student.data.clone()
    feats = [torch.randn(2, 8, 4, 4)]
    for _ in range(4):
        head.loss_by_codes(
            head(feats), HeadInputs(feats, data_samples=primaps_samples(2, 8))
        )
    torch.testing.assert_close(
        head.prototypes.student.data, before
    )  # no optimiser


@pytest.mark.parametrize('interval', [0, 2])
def test_em_phase_reseeds_prototypes_that_label_no_pixel(interval):
    torch.manual_seed(0)
    head = PrimapsHead(
        in_channels=4, num_prototypes=2, em_reseed_interval=interval
    )
    # theta_T's prototype 0 (+x) wins every pixel, so every mask's mode is
    # 0 and prototype 1 (-x) labels nothing
    feats = torch.zeros(1, 4, 4, 4)
    feats[:, 0] = 1.0
    feats[:, 1, 0, 0] = 0.5
    live, dead = torch.tensor([1.0, 0, 0, 0]), torch.tensor([-1.0, 0, 0, 0])
    head.set_prototypes(torch.stack([live, dead]), kmeans_iters=0)
    samples = primaps_samples(1, 4)
    views = dict(student_img=[feats])
    for _ in range(2):
        torch.testing.assert_close(head.prototypes.student.data[1], dead)
        head.loss_by_codes(
            head([feats]),
            HeadInputs([feats], data_samples=samples, views=views),
        )
    if interval == 0:  # the paper: a dead prototype stays dead
        torch.testing.assert_close(head.prototypes.student.data[1], dead)
        torch.testing.assert_close(head.prototypes.teacher[1], dead)
        return
    expected = F.normalize(torch.tensor([1.0, 0.5, 0, 0]), dim=0)
    torch.testing.assert_close(head.prototypes.student.data[1], expected)
    torch.testing.assert_close(head.prototypes.teacher[1], expected)
    torch.testing.assert_close(head.prototypes.student.data[0], live)
    torch.testing.assert_close(head.prototypes.teacher[0], live)


def test_learned_gain_and_dot_prediction_as_upstream():
    # upstream: weight_norm(Conv2d(C, K, 1)) on raw features, theta_T the
    # EMA of direction and gain, prediction softmax(theta_T^T f)
    torch.manual_seed(0)
    head = PrimapsHead(
        in_channels=4,
        num_prototypes=2,
        prototype_gain='learned',
        prediction_logits='dot',
    )
    head.set_prototypes(torch.tensor([[3.0, 0, 0, 0], [0, 2.0, 0, 0]]), 0)
    assert head.prototypes.student_gain.tolist() == [1.0, 1.0]
    head.prototypes.student_gain.data = torch.tensor([2.0, 0.5])
    codes = torch.tensor([1.0, 4.0, 0, 0]).reshape(1, 4, 1, 1)
    # g_k * v_k . f / |v_k|: 2 * 1, 0.5 * 4
    assert head.student_logits(codes).flatten().tolist() == [2.0, 2.0]
    head.prototypes.momentum = 0.75
    head.update_teacher()
    torch.testing.assert_close(
        head.prototypes.teacher_gain, torch.tensor([1.25, 0.875])
    )
    expected = torch.tensor([1.25 * 1.0, 0.875 * 4.0]).log_softmax(0)
    torch.testing.assert_close(head.cluster_logits(codes).flatten(), expected)
    # gradients reach the gains
    head.student_logits(codes).sum().backward()
    assert head.prototypes.student_gain.grad.abs().sum() > 0


def test_cosine_prediction_is_the_default():
    head = initialised_head()
    codes = torch.randn(1, 8, 2, 2)
    expected = F.log_softmax(
        2.0
        * torch.einsum(
            'bchw,kc->bkhw',
            F.normalize(codes, dim=1),
            F.normalize(head.prototypes.teacher, dim=1),
        ),
        dim=1,
    )
    torch.testing.assert_close(head.cluster_logits(codes), expected)
    assert not hasattr(head.prototypes, 'student_gain')
    with pytest.raises(ValueError, match='prototype_gain'):
        PrimapsHead(in_channels=8, num_prototypes=3, prototype_gain='free')
    with pytest.raises(ValueError, match='prediction_logits'):
        PrimapsHead(in_channels=8, num_prototypes=3, prediction_logits='l2')


def test_student_view_is_only_required_during_em():
    head = initialised_head(kmeans_iters=2)
    feats = [torch.randn(2, 8, 4, 4)]
    samples = primaps_samples(2, 8)
    views = dict(student_img=[torch.randn(2, 8, 4, 4)])
    needed = []
    for _ in range(4):
        needed.append(head.required_views)
        head.loss_by_codes(
            head(feats), HeadInputs(feats, data_samples=samples, views=views)
        )
    assert needed == [(), (), ('student_img',), ('student_img',)]


def test_checkpoints_with_the_legacy_prototype_keys_load():
    source = PrimapsHead(
        in_channels=4, num_prototypes=2, prototype_gain='learned'
    )
    source.set_prototypes(torch.randn(2, 4), 3)
    source.prototypes.updates.fill_(7)
    legacy = {
        key.replace('prototypes.updates', 'ema_updates').replace(
            'prototypes.', ''
        ): value
        for key, value in source.state_dict().items()
    }
    assert 'student' in legacy and 'ema_updates' in legacy
    target = PrimapsHead(
        in_channels=4, num_prototypes=2, prototype_gain='learned'
    )
    target.load_state_dict(legacy)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)
    # a wrong shape under an old name is still refused
    legacy['student'] = torch.zeros(3, 4)
    with pytest.raises(RuntimeError, match='prototypes.student'):
        target.load_state_dict(legacy)


def test_student_view_stands_in_as_the_image_for_the_objective():
    head = PrimapsHead(in_channels=8, num_prototypes=3, student_view='aug')
    assert head.view_stand_ins == {'aug': 'self'}
