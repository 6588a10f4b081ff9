# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg's spatially constrained fuzzy c-means (Eqs. 3-8)."""

import numpy as np
import pytest
import torch

from mmuss.models.utils import (
    cluster_probabilities,
    downsample_image,
    fcm_centres,
    fcm_memberships,
    fcm_objective,
    spatial_fuzzy_cmeans,
    spatial_information,
    spatial_memberships,
)

# ---------------------------------------------------------------- references
# Brute-force numpy loops written straight from the printed equations.


def np_memberships(x, centres, power):
    """Eq. 4 with explicit loops; x (C, h, w), centres (K, C)."""
    num_clusters = centres.shape[0]
    _, h, w = x.shape
    u = np.zeros((num_clusters, h, w))
    for r in range(h):
        for c in range(w):
            inv = [
                (1.0 / np.linalg.norm(x[:, r, c] - centres[k])) ** power
                for k in range(num_clusters)
            ]
            for k in range(num_clusters):
                u[k, r, c] = inv[k] / sum(inv)
    return u


def np_spatial(u):
    """Eq. 5: 3x3 sum over in-image neighbours, centre included."""
    num_clusters, h, w = u.shape
    s = np.zeros_like(u)
    for k in range(num_clusters):
        for r in range(h):
            for c in range(w):
                for dr in (-1, 0, 1):
                    for dc in (-1, 0, 1):
                        rr, cc = r + dr, c + dc
                        if 0 <= rr < h and 0 <= cc < w:
                            s[k, r, c] += u[k, rr, cc]
    return s


def np_modified(u, s):
    """Eq. 6."""
    us = u * s
    return us / us.sum(axis=0, keepdims=True)


def np_centres(x, u, m):
    """Eq. 7 with explicit loops."""
    num_clusters = u.shape[0]
    channels, h, w = x.shape
    centres = np.zeros((num_clusters, channels))
    for k in range(num_clusters):
        num = np.zeros(channels)
        den = 0.0
        for r in range(h):
            for c in range(w):
                weight = u[k, r, c] ** m
                num += weight * x[:, r, c]
                den += weight
        centres[k] = num / den
    return centres


def np_sfcm(x, u0, m, iters, power, spatial):
    """The loop of :func:`spatial_fuzzy_cmeans` on one image, in numpy."""
    centres = np_centres(x, u0, m)
    for _ in range(iters):
        used = centres
        u = np_memberships(x, centres, power)
        if spatial:
            u = np_modified(u, np_spatial(u))
        centres = np_centres(x, u, m)
    return u / u.sum(axis=0, keepdims=True), used


def np_plain_fcm(points, centres, m, iters):
    """Textbook FCM (Bezdek) on a list of points; points (N, C)."""
    for _ in range(iters):
        used = centres
        dist = np.linalg.norm(points[:, None] - centres[None], axis=2)
        ratio = (dist[:, :, None] / dist[:, None, :]) ** (2.0 / (m - 1.0))
        u = 1.0 / ratio.sum(axis=2)  # (N, K)
        weights = u**m
        centres = weights.T @ points / weights.sum(axis=0)[:, None]
    return u, used


def random_case(seed, batch=2, channels=3, h=4, w=5, k=3):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, channels, h, w, generator=gen, dtype=torch.float64)
    u0 = torch.rand(batch, k, h, w, generator=gen, dtype=torch.float64)
    return x, u0 / u0.sum(dim=1, keepdim=True)


# ---------------------------------------------------------------- equations


def test_downsample_image_is_bilinear_to_grid():
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    x = downsample_image(image, (2, 2))
    assert x.shape == (1, 1, 2, 2)
    # halving with align_corners=False averages each 2x2 block
    expected = torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]])
    torch.testing.assert_close(x, expected)


def test_objective_hand_computed():
    # two pixels 0 and 2 on a line, centres 0 and 1
    x = torch.tensor([[[[0.0, 2.0]]]])
    centres = torch.tensor([[[0.0], [1.0]]])
    u = torch.tensor([[[[1.0, 0.5]], [[0.0, 0.5]]]])
    # pixel 0: 1^2*0 + 0; pixel 2: 0.25*4 + 0.25*1
    torch.testing.assert_close(
        fcm_objective(x, centres, u, m=2.0), torch.tensor([1.25])
    )


@pytest.mark.parametrize(
    'exponent,expected_near',
    [('printed', 2.0 / 3.0), ('standard', 0.8)],
)
def test_memberships_hand_computed(exponent, expected_near):
    # pixel at 1, centres at 0 and 3: d = 1 and 2, m = 2
    # printed: (1/1)^1 / (1 + 1/2) = 2/3; standard: 1 / (1 + 1/4) = 0.8
    x = torch.tensor([[[[1.0]]]], dtype=torch.float64)
    centres = torch.tensor([[[0.0], [3.0]]], dtype=torch.float64)
    u = fcm_memberships(x, centres, m=2.0, exponent=exponent)
    torch.testing.assert_close(
        u.flatten(),
        torch.tensor([expected_near, 1.0 - expected_near], dtype=u.dtype),
    )


def test_memberships_fuzzifier_and_bad_arguments():
    x = torch.tensor([[[[1.0]]]], dtype=torch.float64)
    centres = torch.tensor([[[0.0], [3.0]]], dtype=torch.float64)
    # m = 3, printed power 1/2: sqrt(1) / (sqrt(1) + sqrt(1/2))
    u = fcm_memberships(x, centres, m=3.0)
    near = 1.0 / (1.0 + 0.5**0.5)
    torch.testing.assert_close(
        u.flatten(), torch.tensor([near, 1.0 - near], dtype=u.dtype)
    )
    with pytest.raises(ValueError):
        fcm_memberships(x, centres, m=1.0)
    with pytest.raises(ValueError):
        fcm_memberships(x, centres, exponent='square')


def test_memberships_on_a_centre_is_one_hot():
    x = torch.tensor([[[[0.0]]]])
    centres = torch.tensor([[[0.0], [1.0]]])
    u = fcm_memberships(x, centres)
    assert torch.isfinite(u).all()
    torch.testing.assert_close(u.flatten(), torch.tensor([1.0, 0.0]))


def test_spatial_information_hand_computed():
    u = torch.arange(9.0).reshape(1, 1, 3, 3)
    s = spatial_information(u)
    # corner (0,0): 0+1+3+4; centre: sum of all; edge (0,1): 0+1+2+3+4+5
    assert s[0, 0, 0, 0] == 8.0
    assert s[0, 0, 1, 1] == 36.0
    assert s[0, 0, 0, 1] == 15.0
    with pytest.raises(ValueError):
        spatial_information(u, window=2)


def test_spatial_memberships_hand_computed():
    u = torch.tensor([0.5, 0.5]).reshape(1, 2, 1, 1)
    s = torch.tensor([3.0, 1.0]).reshape(1, 2, 1, 1)
    modified = spatial_memberships(u, s)
    torch.testing.assert_close(modified.flatten(), torch.tensor([0.75, 0.25]))


def test_centres_hand_computed():
    # pixels 0 and 4; cluster 0 weights (1, 0.5) -> m=2 weights (1, 0.25)
    x = torch.tensor([[[[0.0, 4.0]]]])
    u = torch.tensor([[[[1.0, 0.5]], [[0.0, 0.5]]]])
    centres = fcm_centres(x, u, m=2.0)
    torch.testing.assert_close(centres, torch.tensor([[[0.8], [4.0]]]))
    # an empty cluster yields a finite (zero) centre
    empty = fcm_centres(x, torch.zeros(1, 1, 1, 2))
    assert torch.isfinite(empty).all()


def test_cluster_probabilities_normalise():
    u = torch.tensor([1.0, 3.0]).reshape(1, 2, 1, 1)
    torch.testing.assert_close(
        cluster_probabilities(u).flatten(), torch.tensor([0.25, 0.75])
    )


def test_equations_match_numpy_loops():
    x, u0 = random_case(0)
    centres = fcm_centres(x, u0)
    for exponent, power in (('printed', 1.0), ('standard', 2.0)):
        u = fcm_memberships(x, centres, m=2.0, exponent=exponent)
        s = spatial_information(u)
        modified = spatial_memberships(u, s)
        for b in range(x.shape[0]):
            xb, cb = x[b].numpy(), centres[b].numpy()
            np.testing.assert_allclose(cb, np_centres(xb, u0[b].numpy(), 2))
            ref_u = np_memberships(xb, cb, power)
            np.testing.assert_allclose(u[b].numpy(), ref_u, rtol=1e-9)
            ref_s = np_spatial(ref_u)
            np.testing.assert_allclose(s[b].numpy(), ref_s, rtol=1e-9)
            np.testing.assert_allclose(
                modified[b].numpy(), np_modified(ref_u, ref_s), rtol=1e-9
            )


# ---------------------------------------------------------------- the loop


@pytest.mark.parametrize('exponent,power', [('printed', 1), ('standard', 2)])
@pytest.mark.parametrize('spatial', [True, False])
def test_sfcm_matches_numpy_loop(exponent, power, spatial):
    x, u0 = random_case(1)
    probs, centres = spatial_fuzzy_cmeans(
        x,
        init_memberships=u0,
        m=2.0,
        num_iters=4,
        exponent=exponent,
        spatial=spatial,
    )
    assert probs.shape == u0.shape and centres.shape == (2, 3, 3)
    torch.testing.assert_close(
        probs.sum(dim=1), torch.ones_like(probs[:, 0]), rtol=0, atol=1e-12
    )
    assert (probs >= 0).all()
    for b in range(x.shape[0]):
        ref_p, ref_v = np_sfcm(
            x[b].numpy(), u0[b].numpy(), 2.0, 4, power, spatial
        )
        np.testing.assert_allclose(probs[b].numpy(), ref_p, rtol=1e-8)
        np.testing.assert_allclose(centres[b].numpy(), ref_v, rtol=1e-8)


def test_without_spatial_term_standard_exponent_is_plain_fcm():
    x, _ = random_case(2, batch=1, h=5, w=5, k=4)
    gen = torch.Generator().manual_seed(3)
    init = torch.rand(1, 4, 3, generator=gen, dtype=torch.float64)
    probs, centres = spatial_fuzzy_cmeans(
        x,
        init_centres=init,
        m=2.5,
        num_iters=7,
        exponent='standard',
        spatial=False,
    )
    points = x[0].flatten(1).T.numpy()  # (N, C)
    ref_u, ref_v = np_plain_fcm(points, init[0].numpy(), 2.5, 7)
    np.testing.assert_allclose(probs[0].flatten(1).T.numpy(), ref_u, rtol=1e-8)
    np.testing.assert_allclose(centres[0].numpy(), ref_v, rtol=1e-8)


def test_channel_k_follows_the_initialisation():
    # two colour regions; whichever channel the initial memberships give a
    # region to keeps it after the iterations
    x = torch.zeros(1, 3, 4, 4)
    x[:, :, :, 2:] = 1.0
    left = torch.zeros(1, 1, 4, 4)
    left[..., :2] = 1.0
    for u0 in (
        torch.cat([0.8 * left + 0.1, 0.9 - 0.8 * left], dim=1),
        torch.cat([0.9 - 0.8 * left, 0.8 * left + 0.1], dim=1),
    ):
        probs, _ = spatial_fuzzy_cmeans(x, init_memberships=u0, num_iters=5)
        assert torch.equal(probs.argmax(dim=1), u0.argmax(dim=1))


def test_sfcm_batches_independent_images():
    x, u0 = random_case(4, batch=3)
    batched, _ = spatial_fuzzy_cmeans(x, init_memberships=u0, num_iters=3)
    for b in range(3):
        single, _ = spatial_fuzzy_cmeans(
            x[b : b + 1], init_memberships=u0[b : b + 1], num_iters=3
        )
        torch.testing.assert_close(batched[b : b + 1], single)


def test_sfcm_spatial_term_smooths_an_isolated_pixel():
    # one noisy pixel in a uniform region: sFCM pulls it to the region
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[:, :, :, 3:] = 1.0
    x[0, 0, 2, 1] = 0.6  # closer to the right colour, inside the left
    init = torch.tensor([[[0.0], [1.0]]], dtype=torch.float64)
    plain, _ = spatial_fuzzy_cmeans(x, init_centres=init, spatial=False)
    smooth, _ = spatial_fuzzy_cmeans(x, init_centres=init, spatial=True)
    assert plain.argmax(dim=1)[0, 2, 1] == 1
    assert smooth.argmax(dim=1)[0, 2, 1] == 0


def test_sfcm_arguments_are_checked():
    x, u0 = random_case(5)
    with pytest.raises(ValueError):
        spatial_fuzzy_cmeans(x)
    with pytest.raises(ValueError):
        spatial_fuzzy_cmeans(
            x, init_memberships=u0, init_centres=torch.zeros(2, 3, 3)
        )
    with pytest.raises(ValueError):
        spatial_fuzzy_cmeans(x, init_memberships=u0, num_iters=0)


def test_sfcm_gradcheck():
    x, u0 = random_case(6, batch=1, h=3, w=3, k=2)
    x.requires_grad_(True)
    u0.requires_grad_(True)

    def run(pixels, init):
        return spatial_fuzzy_cmeans(pixels, init_memberships=init, num_iters=2)

    assert torch.autograd.gradcheck(run, (x, u0))
