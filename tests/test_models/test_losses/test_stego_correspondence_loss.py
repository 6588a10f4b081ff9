# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmuss.models.losses import (
    StegoCorrespondenceLoss,
    feature_correlation,
    random_derangement,
    stego_super_perm,
)


def reference_pair_loss(f1, f2, c1, c2, shift, centering, stabilize=False):
    """Upstream STEGO ``helper``, written out point by point."""
    batch, _, size, _ = f1.shape
    fd = torch.zeros(batch, size, size, size, size, dtype=f1.dtype)
    cd = torch.zeros_like(fd)
    for n in range(batch):
        for h in range(size):
            for w in range(size):
                for i in range(size):
                    for j in range(size):
                        fd[n, h, w, i, j] = F.cosine_similarity(
                            f1[n, :, h, w], f2[n, :, i, j], dim=0
                        )
                        cd[n, h, w, i, j] = F.cosine_similarity(
                            c1[n, :, h, w], c2[n, :, i, j], dim=0
                        )
    if centering is not None:
        old_mean = fd.mean()
        fd = fd - fd.mean(dim=(3, 4), keepdim=True)
        if centering == 'stego':
            fd = fd - fd.mean() + old_mean
    clamped = cd.clamp(0, 0.8) if stabilize else cd.clamp(0)
    return (-clamped * (fd - shift)).mean()


def reference_loss(
    feats,
    codes,
    knn_feats,
    knn_codes,
    coords1,
    coords2,
    perms,
    weights,
    shifts,
    centering,
    stabilize=False,
):
    def sample(t, coords):
        return F.grid_sample(
            t,
            coords.permute(0, 2, 1, 3),
            padding_mode='border',
            align_corners=True,
        )

    f, c = sample(feats, coords1), sample(codes, coords1)
    self_term = reference_pair_loss(
        f, f, c, c, shifts[0], centering, stabilize
    )
    knn_term = reference_pair_loss(
        f,
        sample(knn_feats, coords2),
        c,
        sample(knn_codes, coords2),
        shifts[1],
        centering,
        stabilize,
    )
    rand_term = torch.stack(
        [
            reference_pair_loss(
                f,
                sample(feats[p], coords2),
                c,
                sample(codes[p], coords2),
                shifts[2],
                centering,
                stabilize,
            )
            for p in perms
        ]
    ).mean()
    return (
        weights[0] * self_term + weights[1] * knn_term + weights[2] * rand_term
    )


def random_inputs(seed=0, batch=3, size=6):
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    coords = [
        torch.rand(batch, 3, 3, 2, generator=generator, dtype=torch.float64)
        * 2
        - 1
        for _ in range(2)
    ]
    return (
        rand(batch, 8, size, size),
        rand(batch, 5, size, size),
        rand(batch, 8, size, size),
        rand(batch, 5, size, size),
        *coords,
    )


@pytest.mark.parametrize('centering', ['stego', 'paper', None])
@pytest.mark.parametrize('stabilize', [False, True])
def test_matches_pointwise_reference(centering, stabilize):
    feats, codes, knn_feats, knn_codes, coords1, coords2 = random_inputs()
    perms = [torch.tensor([1, 2, 0]), torch.tensor([2, 0, 1])]
    weights, shifts = (0.67, 0.25, 0.63), (0.08, 0.02, 0.66)
    loss = StegoCorrespondenceLoss(
        *weights,
        *shifts,
        num_samples=3,
        num_negatives=2,
        centering=centering,
        stabilize=stabilize,
    )
    out = loss(feats, codes, knn_feats, knn_codes, coords1, coords2, perms)
    expected = reference_loss(
        feats,
        codes,
        knn_feats,
        knn_codes,
        coords1,
        coords2,
        perms,
        weights,
        shifts,
        centering,
        stabilize,
    )
    torch.testing.assert_close(out['loss_corr'], expected)
    assert set(out) == {'loss_corr', 'corr_self', 'corr_knn', 'corr_rand'}


def test_paper_centering_removes_the_mean_over_the_second_image():
    f1, f2 = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    paper = feature_correlation(f1, f2, 'paper')
    torch.testing.assert_close(
        paper.mean(dim=(3, 4)), torch.zeros(2, 3, 3), atol=1e-6, rtol=0
    )
    stego = feature_correlation(f1, f2, 'stego')
    raw = feature_correlation(f1, f2, None)
    torch.testing.assert_close(stego.mean(), raw.mean())
    torch.testing.assert_close(
        stego - paper,
        torch.full_like(paper, raw.mean().item()),
        atol=1e-6,
        rtol=0,
    )


def test_gradients_reach_codes_only():
    feats, codes, knn_feats, knn_codes, coords1, coords2 = random_inputs()
    feats.requires_grad_(True)
    codes.requires_grad_(True)
    knn_codes.requires_grad_(True)
    loss = StegoCorrespondenceLoss(num_samples=3)
    out = loss(feats, codes, knn_feats, knn_codes, coords1, coords2)
    out['loss_corr'].backward()
    assert feats.grad is None
    assert codes.grad.abs().sum() > 0 and knn_codes.grad.abs().sum() > 0


def test_gradient_matches_finite_differences():
    feats, codes, knn_feats, knn_codes, coords1, coords2 = random_inputs(1)
    perms = [torch.tensor([2, 0, 1])]
    loss = StegoCorrespondenceLoss(
        num_samples=3, num_negatives=1, zero_clamp=False
    )

    def total(codes_, knn_codes_):
        return loss(
            feats, codes_, knn_feats, knn_codes_, coords1, coords2, perms
        )['loss_corr']

    assert torch.autograd.gradcheck(
        total, (codes.requires_grad_(), knn_codes.requires_grad_())
    )


def test_minimising_aligns_code_with_feature_correlations():
    torch.manual_seed(0)
    # two feature "classes": codes trained by the loss should separate them
    labels = torch.zeros(4, 1, 6, 6)
    labels[:, :, :, 3:] = 1
    feats = torch.cat([labels, 1 - labels], 1) + 0.05 * torch.randn(4, 2, 6, 6)
    codes = torch.randn(4, 3, 6, 6, requires_grad=True)
    loss = StegoCorrespondenceLoss(1.0, 0.0, 1.0, 0.3, 0.0, 0.3, num_samples=6)
    optimizer = torch.optim.Adam([codes], lr=0.05)
    for _ in range(150):
        optimizer.zero_grad()
        loss(feats, codes)['loss_corr'].backward()
        optimizer.step()
    unit = F.normalize(codes.detach(), dim=1)
    same = (unit[:, :, :, 0] * unit[:, :, :, 1]).sum(1).mean()
    different = (unit[:, :, :, 0] * unit[:, :, :, 5]).sum(1).mean()
    assert same > 0.9 and different < 0.2


def test_negative_pairings_never_pair_an_image_with_itself():
    for size in (2, 3, 7):
        for _ in range(50):
            perm = random_derangement(size)
            assert sorted(perm.tolist()) == list(range(size))
            assert (perm != torch.arange(size)).all()
            assert (stego_super_perm(size) != torch.arange(size)).all()


def test_batch_of_one_gives_a_clear_error():
    feats, codes = torch.randn(1, 4, 5, 5), torch.randn(1, 3, 5, 5)
    loss = StegoCorrespondenceLoss(weight_knn=0)
    with pytest.raises(ValueError, match='at least 2 images per batch'):
        loss(feats, codes)
    no_negatives = StegoCorrespondenceLoss(weight_knn=0, weight_rand=0)
    assert set(no_negatives(feats, codes)) == {'loss_corr', 'corr_self'}


def test_knn_term_needs_positives_and_options_are_checked():
    feats, codes = torch.randn(2, 4, 5, 5), torch.randn(2, 3, 5, 5)
    with pytest.raises(ValueError, match='KNN positives'):
        StegoCorrespondenceLoss()(feats, codes)
    with pytest.raises(ValueError, match='centering'):
        StegoCorrespondenceLoss(centering='global')
    with pytest.raises(ValueError, match='negative_sampling'):
        StegoCorrespondenceLoss(negative_sampling='shuffle')


def test_upstream_settings_match_reference_value_and_gradient():
    # centering='stego', negative_sampling='stego' with fixed coordinates
    # and upstream super_perm permutations: value and gradient wrt the
    # codes equal the point-by-point re-derivation of upstream's helper.
    feats, codes, knn_feats, knn_codes, coords1, coords2 = random_inputs(
        seed=3
    )
    generator = torch.Generator().manual_seed(5)
    perms = [stego_super_perm(3, generator=generator) for _ in range(5)]
    weights, shifts = (0.67, 0.25, 0.63), (0.18, 0.12, 0.46)
    loss = StegoCorrespondenceLoss(
        *weights,
        *shifts,
        num_samples=3,
        centering='stego',
        negative_sampling='stego',
    )
    ours_codes = codes.clone().requires_grad_()
    ours = loss(
        feats, ours_codes, knn_feats, knn_codes, coords1, coords2, perms
    )['loss_corr']
    ours.backward()
    ref_codes = codes.clone().requires_grad_()
    expected = reference_loss(
        feats,
        ref_codes,
        knn_feats,
        knn_codes,
        coords1,
        coords2,
        perms,
        weights,
        shifts,
        'stego',
    )
    expected.backward()
    torch.testing.assert_close(ours, expected)
    torch.testing.assert_close(ours_codes.grad, ref_codes.grad)
    assert ours_codes.grad.abs().sum() > 0


def test_super_perm_is_upstreams_rule():
    # randperm, fixed points moved by one, modulo the size
    for seed in range(20):
        perm = stego_super_perm(
            6, generator=torch.Generator().manual_seed(seed)
        )
        base = torch.randperm(6, generator=torch.Generator().manual_seed(seed))
        expected = [
            (p + 1) % 6 if p == i else p for i, p in enumerate(base.tolist())
        ]
        assert perm.tolist() == expected


def test_all_weights_zero_gives_a_zero_tensor_loss():
    feats = torch.randn(2, 4, 5, 5)
    codes = torch.randn(2, 3, 5, 5, requires_grad=True)
    loss = StegoCorrespondenceLoss(0, 0, 0)(feats, codes)['loss_corr']
    assert isinstance(loss, torch.Tensor) and loss.item() == 0
    loss.backward()
    assert torch.equal(codes.grad, torch.zeros_like(codes))
