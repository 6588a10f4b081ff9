# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg's colour affinity and low-level cue F_l = A·P (Eqs. 9-12)."""

import math

import numpy as np
import pytest
import torch

from mmuss.models.utils import (
    colour_affinity_matrix,
    colour_distances,
    gaussian_affinity,
    low_level_cue,
    normalise_affinity_rows,
    spatial_fuzzy_cmeans,
    squared_colour_distances,
)


def dense_reference(x, probs, sigma, normalise):
    """Eqs. 9-12 for the whole batch at once, with numpy loops for A."""
    batch, _, h, w = x.shape
    n = h * w
    out = np.zeros(probs.shape)
    for b in range(batch):
        pixels = x[b].reshape(x.shape[1], n).T
        affinity = np.zeros((n, n))
        for j in range(n):
            for k in range(n):
                d = np.linalg.norm(pixels[j] - pixels[k])
                affinity[j, k] = math.exp(-(d**2) / (2 * sigma**2))
        if normalise == 'row':
            affinity = affinity / affinity.sum(axis=1, keepdims=True)
        flat = probs[b].reshape(probs.shape[1], n).T
        out[b] = (affinity @ flat).T.reshape(probs.shape[1], h, w)
    return out


def random_case(seed, batch=2, h=3, w=4, k=3):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, h, w, generator=gen, dtype=torch.float64)
    probs = torch.rand(batch, k, h, w, generator=gen, dtype=torch.float64)
    return x, probs / probs.sum(dim=1, keepdim=True)


def test_distances_hand_computed():
    pixels = torch.tensor([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    torch.testing.assert_close(
        colour_distances(pixels, pixels),
        torch.tensor([[0.0, 5.0], [5.0, 0.0]]),
    )
    torch.testing.assert_close(
        squared_colour_distances(pixels, pixels[1:]),
        torch.tensor([[25.0], [0.0]]),
    )


def test_gaussian_affinity_hand_computed():
    d2 = torch.tensor([0.0, 2.0, 8.0])
    # sigma = 1: exp(0), exp(-1), exp(-4)
    torch.testing.assert_close(
        gaussian_affinity(d2, 1.0), torch.exp(torch.tensor([0.0, -1.0, -4.0]))
    )
    with pytest.raises(ValueError):
        gaussian_affinity(d2, 0.0)


def test_affinity_matrix_layout():
    # a 1x2 image: black, then a colour at distance 0.1 * sqrt(2)
    image = torch.tensor([[[0.0, 0.1]], [[0.0, 0.1]], [[0.0, 0.0]]])
    affinity = colour_affinity_matrix(image, sigma=0.1)
    off = math.exp(-0.02 / 0.02)
    torch.testing.assert_close(
        affinity, torch.tensor([[1.0, off], [off, 1.0]])
    )
    x, _ = random_case(0)
    big = colour_affinity_matrix(x[0], sigma=0.3)
    assert big.shape == (12, 12)
    torch.testing.assert_close(big, big.T)
    torch.testing.assert_close(big.diagonal(), torch.ones(12).double())


def test_normalise_rows():
    affinity = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    torch.testing.assert_close(
        normalise_affinity_rows(affinity),
        torch.tensor([[0.25, 0.75], [0.5, 0.5]]),
    )
    assert normalise_affinity_rows(affinity, 'none') is affinity
    with pytest.raises(ValueError):
        normalise_affinity_rows(affinity, 'sym')


def test_cue_hand_computed():
    # two pixels, affinity a between them, one-hot probabilities
    image = torch.tensor([[[[0.0, 0.1]], [[0.0, 0.1]], [[0.0, 0.0]]]])
    probs = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])
    a = math.exp(-1.0)
    raw = low_level_cue(image, probs, sigma=0.1, normalise='none')
    torch.testing.assert_close(raw, torch.tensor([[[[1.0, a]], [[a, 1.0]]]]))
    row = low_level_cue(image, probs, sigma=0.1)
    q = 1.0 / (1.0 + a)
    torch.testing.assert_close(
        row, torch.tensor([[[[q, a * q]], [[a * q, q]]]])
    )


@pytest.mark.parametrize('normalise', ['row', 'none'])
@pytest.mark.parametrize('chunk_size', [None, 1, 5, 12, 100])
def test_chunked_cue_equals_dense_reference(normalise, chunk_size):
    x, probs = random_case(1)
    cue = low_level_cue(
        x, probs, sigma=0.2, normalise=normalise, chunk_size=chunk_size
    )
    assert cue.shape == probs.shape
    ref = dense_reference(x.numpy(), probs.numpy(), 0.2, normalise)
    np.testing.assert_allclose(cue.numpy(), ref, rtol=1e-10)


def test_cue_scales():
    # row-normalised: a convex mix of probabilities, in [0, 1], summing to 1
    # and independent of the grid size; literal A·P grows with N
    for size in (4, 8):
        x, probs = random_case(2, batch=1, h=size, w=size)
        cue = low_level_cue(x, probs, sigma=0.1)
        assert cue.min() >= 0 and cue.max() <= 1
        torch.testing.assert_close(cue.sum(dim=1), torch.ones_like(cue[:, 0]))
    uniform = torch.zeros(1, 3, 6, 6)
    probs = torch.full((1, 2, 6, 6), 0.5)
    torch.testing.assert_close(
        low_level_cue(uniform, probs, normalise='none'),
        torch.full((1, 2, 6, 6), 18.0),
    )


def test_cue_of_sfcm_keeps_channel_order():
    x = torch.zeros(1, 3, 4, 4)
    x[:, :, :, 2:] = 1.0
    init = torch.zeros(1, 2, 4, 4)
    init[:, 1, :, 2:] = 1.0
    init[:, 0, :, :2] = 1.0
    probs, _ = spatial_fuzzy_cmeans(x, init_memberships=0.8 * init + 0.1)
    cue = low_level_cue(x, probs)
    assert torch.equal(cue.argmax(dim=1), init.argmax(dim=1))


def test_cue_arguments_are_checked():
    x, probs = random_case(3)
    with pytest.raises(ValueError):
        low_level_cue(x, probs[:1])
    with pytest.raises(ValueError):
        low_level_cue(x, probs[..., :2])
    with pytest.raises(ValueError):
        low_level_cue(x, probs, chunk_size=0)
    with pytest.raises(ValueError):
        low_level_cue(x, probs, normalise='sym')


@pytest.mark.parametrize('normalise', ['row', 'none'])
def test_cue_gradcheck(normalise):
    x, probs = random_case(4, batch=2, h=2, w=3, k=2)
    x.requires_grad_(True)
    probs.requires_grad_(True)

    def run(pixels, p):
        return low_level_cue(
            pixels, p, sigma=0.5, normalise=normalise, chunk_size=4
        )

    assert torch.autograd.gradcheck(run, (x, probs))
