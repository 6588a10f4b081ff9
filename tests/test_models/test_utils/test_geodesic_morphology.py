# Copyright (c) mmuss contributors. All rights reserved.
"""StructAug's equations (MSSSeg §3.3, Eqs. 6-8): HSL conversion,
learnable geodesic erosion/dilation, the toolbox, Gumbel selection, the
blend."""

import colorsys
import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from mmuss.models.utils import (
    GeodesicOperator,
    affinity_kernel,
    black_top_hat,
    geodesic_closing,
    geodesic_dilation,
    geodesic_erosion,
    geodesic_opening,
    gumbel_selection,
    hls_to_pixels,
    neighbourhood,
    pixels_to_hls,
    structural_blend,
    toolbox_outputs,
    white_top_hat,
)


def operator(beta, penalty):
    return GeodesicOperator(
        torch.tensor(float(beta), dtype=torch.float64),
        torch.tensor(float(penalty), dtype=torch.float64),
    )


def random_lightness(seed, height=5, width=6, batch=2):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 1, height, width, generator=gen).double()


def brute_force(lightness, beta, penalty, kernel_size, guide, erode):
    """Eqs. 6/7 by loops over pixels and their neighbourhoods clipped to
    the image."""
    values = lightness[:, 0].numpy()
    guide = values if guide is None else guide[:, 0].numpy()
    out = np.zeros_like(values)
    radius = kernel_size // 2
    batch, height, width = values.shape
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                candidates = []
                for qi in range(
                    max(0, i - radius), min(height, i + radius + 1)
                ):
                    for qj in range(
                        max(0, j - radius), min(width, j + radius + 1)
                    ):
                        step = abs(guide[b, i, j] - guide[b, qi, qj])
                        cost = penalty * (1.0 - math.exp(-beta * step))
                        value = values[b, qi, qj]
                        candidates.append(
                            value + cost if erode else value - cost
                        )
                out[b, i, j] = min(candidates) if erode else max(candidates)
    return torch.from_numpy(out).unsqueeze(1)


def test_hls_matches_colorsys_and_round_trips():
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (2, 3, 4, 5), generator=gen).double()
    hls = pixels_to_hls(pixels)
    for b, i, j in [(0, 0, 0), (1, 3, 4), (0, 2, 1), (1, 1, 3)]:
        r, g, bl = (pixels[b, :, i, j] / 255).tolist()
        hue, light, sat = colorsys.rgb_to_hls(r, g, bl)
        assert hls[b, 0, i, j].item() == pytest.approx(2 * math.pi * hue)
        assert hls[b, 1, i, j].item() == pytest.approx(light)
        assert hls[b, 2, i, j].item() == pytest.approx(sat, abs=1e-6)
    torch.testing.assert_close(hls_to_pixels(hls), pixels, atol=1e-4, rtol=0)
    # bgr in, bgr out: the same colours
    bgr = pixels.flip(1)
    torch.testing.assert_close(pixels_to_hls(bgr, channel_order='bgr'), hls)
    torch.testing.assert_close(
        hls_to_pixels(hls, channel_order='bgr'), bgr, atol=1e-4, rtol=0
    )
    # full intensity 1 instead of 255
    torch.testing.assert_close(pixels_to_hls(pixels / 255, 1.0), hls)


def test_hls_refuses_bad_images_and_orders():
    with pytest.raises(ValueError, match=r'\(2, 1, 4, 4\)'):
        pixels_to_hls(torch.zeros(2, 1, 4, 4))
    with pytest.raises(ValueError, match="'hsv'"):
        pixels_to_hls(torch.zeros(1, 3, 2, 2), channel_order='hsv')
    with pytest.raises(ValueError, match="'rbg'"):
        hls_to_pixels(torch.zeros(1, 3, 2, 2), channel_order='rbg')


def test_neighbourhood_clips_to_the_image():
    values = torch.arange(6.0).view(1, 1, 2, 3)
    stacked = neighbourhood(values, 3)
    assert stacked.shape == (1, 1, 9, 2, 3)
    # top-left pixel: the window clipped to {0, 1, 3, 4}
    assert set(stacked[0, 0, :, 0, 0].tolist()) == {0.0, 1.0, 3.0, 4.0}
    for size in (0, 2, -1):
        with pytest.raises(ValueError, match=f'got {size}'):
            neighbourhood(values, size)


def test_affinity_kernel_hand_computed():
    guide = torch.tensor([[[[0.0, 0.5]]]])
    weights = affinity_kernel(guide, torch.tensor(2.0), 3)
    # pixel 0: neighbours 0 (itself, replicated) and 0.5
    values = sorted(set(weights[0, 0, :, 0, 0].tolist()))
    assert values == pytest.approx([math.exp(-1.0), 1.0])
    assert weights.max() == 1.0


@pytest.mark.parametrize('kernel_size', [3, 5])
@pytest.mark.parametrize('with_guide', [False, True])
def test_erosion_and_dilation_match_brute_force(kernel_size, with_guide):
    lightness = random_lightness(1)
    guide = random_lightness(2) if with_guide else None
    beta, penalty = 7.0, 0.3
    op = operator(beta, penalty)
    for function, erode in (
        (geodesic_erosion, True),
        (geodesic_dilation, False),
    ):
        torch.testing.assert_close(
            function(lightness, op, kernel_size, guide),
            brute_force(lightness, beta, penalty, kernel_size, guide, erode),
        )


def test_erosion_below_lightness_below_dilation():
    lightness = random_lightness(3, 16, 16)
    for beta, penalty in [(0.0, 0.0), (3.0, 0.05), (50.0, 2.0), (1.0, 0.0)]:
        op = operator(beta, penalty)
        eroded = geodesic_erosion(lightness, op)
        dilated = geodesic_dilation(lightness, op)
        assert (eroded <= lightness).all() and (lightness <= dilated).all()
    # more penalty: less erosion (monotone in lambda)
    weak = geodesic_erosion(lightness, operator(5.0, 0.05))
    strong = geodesic_erosion(lightness, operator(5.0, 0.5))
    assert (weak <= strong).all() and (weak < strong).any()


def test_flat_limit_is_scipy_grey_morphology():
    lightness = random_lightness(4, 7, 9, batch=1)
    flat = operator(0.0, 0.3)  # beta = 0: w = 1, no penalty
    image = lightness[0, 0].numpy()
    pairs = [
        (geodesic_erosion(lightness, flat), ndimage.grey_erosion),
        (geodesic_dilation(lightness, flat), ndimage.grey_dilation),
        (geodesic_opening(lightness, flat, flat), ndimage.grey_opening),
        (geodesic_closing(lightness, flat, flat), ndimage.grey_closing),
    ]
    for ours, reference in pairs:
        expected = reference(image, size=(3, 3), mode='nearest')
        np.testing.assert_allclose(ours[0, 0].numpy(), expected)


def test_boundary_preserving_limit_keeps_steps():
    # piecewise-constant lightness with steps of at least 0.2
    lightness = torch.full((1, 1, 6, 6), 0.2, dtype=torch.float64)
    lightness[..., 2:5, 1:4] = 0.8
    lightness[..., 0, 5] = 0.5
    geodesic = operator(1e4, 1.0)
    torch.testing.assert_close(
        geodesic_erosion(lightness, geodesic), lightness
    )
    torch.testing.assert_close(
        geodesic_dilation(lightness, geodesic), lightness
    )
    # flat erosion removes the 1-pixel bright spot and shrinks the square
    flat = geodesic_erosion(lightness, operator(0.0, 1.0))
    assert flat[0, 0, 0, 5] == 0.2 and flat[0, 0, 3, 2] == 0.8
    assert flat[0, 0, 2, 1] == 0.2


def test_opening_and_closing_with_a_fixed_guide_are_true_ones():
    lightness = random_lightness(5, 12, 12)
    shared = operator(6.0, 0.2)
    opened = geodesic_opening(lightness, shared, shared, guide=lightness)
    closed = geodesic_closing(lightness, shared, shared, guide=lightness)
    assert (opened <= lightness + 1e-12).all()
    assert (closed >= lightness - 1e-12).all()
    # idempotent (erosion and dilation are adjoint)
    torch.testing.assert_close(
        geodesic_opening(opened, shared, shared, guide=lightness), opened
    )
    torch.testing.assert_close(
        geodesic_closing(closed, shared, shared, guide=lightness), closed
    )
    # top-hats: the differences, non-negative here
    torch.testing.assert_close(
        white_top_hat(lightness, opened), lightness - opened
    )
    torch.testing.assert_close(
        black_top_hat(lightness, closed), closed - lightness
    )
    assert (white_top_hat(lightness, opened) >= -1e-12).all()
    assert (black_top_hat(lightness, closed) >= -1e-12).all()
    # the composition is the two primitives in turn
    eroded = geodesic_erosion(lightness, shared, guide=lightness)
    torch.testing.assert_close(
        opened, geodesic_dilation(eroded, shared, guide=lightness)
    )


def test_toolbox_outputs_in_order_and_modes():
    lightness = random_lightness(6, 8, 8)
    erosion, dilation = operator(4.0, 0.1), operator(9.0, 0.3)
    opened = geodesic_opening(lightness, erosion, dilation)
    closed = geodesic_closing(lightness, erosion, dilation)
    raw = toolbox_outputs(lightness, erosion, dilation, top_hat='raw')
    expected_raw = torch.cat(
        [opened, closed, closed - lightness, lightness - opened], 1
    )
    torch.testing.assert_close(raw, expected_raw)
    residual = toolbox_outputs(lightness, erosion, dilation)
    expected_residual = torch.cat(
        [opened, closed, 2 * lightness - closed, 2 * lightness - opened], 1
    )
    torch.testing.assert_close(residual, expected_residual)
    # a fixed guide (penalties computed once) gives the compositions too
    guide = random_lightness(9, 8, 8)
    guided = toolbox_outputs(lightness, erosion, dilation, guide=guide)
    torch.testing.assert_close(
        guided[:, :2],
        torch.cat(
            [
                geodesic_opening(lightness, erosion, dilation, guide=guide),
                geodesic_closing(lightness, erosion, dilation, guide=guide),
            ],
            1,
        ),
    )
    with pytest.raises(ValueError, match="'both'"):
        toolbox_outputs(lightness, erosion, dilation, top_hat='both')


def test_gradients_of_the_primitives():
    lightness = random_lightness(7, 5, 5)
    guide = random_lightness(8, 5, 5)

    def composed(beta_e, penalty_e, beta_d, penalty_d):
        erosion = GeodesicOperator(beta_e, penalty_e)
        dilation = GeodesicOperator(beta_d, penalty_d)
        return toolbox_outputs(lightness, erosion, dilation, guide=guide)

    params = tuple(
        torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for v in (3.0, 0.4, 5.0, 0.3)
    )
    assert torch.autograd.gradcheck(composed, params)
    # a weighted sum: the residual top-hats cancel the opening and
    # closing in a plain sum
    weights = torch.tensor([1.0, 2.0, 3.0, 5.0], dtype=torch.float64)
    (composed(*params) * weights.view(1, 4, 1, 1)).sum().backward()
    assert all(p.grad.abs() > 0 for p in params)


def test_gumbel_selection_frequencies_follow_the_logits():
    torch.manual_seed(0)
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    weights = gumbel_selection(probs.log(), 20000, tau=1.0, hard=True)
    assert set(weights.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(weights.sum(1), torch.ones(20000))
    torch.testing.assert_close(weights.mean(0), probs, atol=0.015, rtol=0)
    soft = gumbel_selection(torch.zeros(4), 5, tau=0.5, hard=False)
    torch.testing.assert_close(soft.sum(1), torch.ones(5))
    assert ((soft > 0) & (soft < 1)).all()
    with pytest.raises(ValueError, match='got 0'):
        gumbel_selection(torch.zeros(4), 2, tau=0)


def test_structural_blend_hand_computed():
    lightness = torch.full((1, 1, 1, 2), 0.5)
    outputs = torch.tensor([[[[0.1, 0.2]], [[0.9, 1.0]]]])
    weights = torch.tensor([[0.25, 0.75]])
    blended = structural_blend(lightness, outputs, weights, torch.tensor(0.4))
    # selected = 0.25 * o_0 + 0.75 * o_1 = (0.7, 0.8)
    expected = 0.6 * 0.5 + 0.4 * torch.tensor([0.7, 0.8])
    torch.testing.assert_close(blended.flatten(), expected)
