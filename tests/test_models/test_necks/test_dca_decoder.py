# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's deformable cross-attention decoder (§3.1) on the CPU, against a
hand-written bilinear sampling reference."""

import math

import numpy as np
import pytest
import torch
from mmcv.ops.multi_scale_deform_attn import (
    multi_scale_deformable_attn_pytorch,
)
from mmseg.registry import MODELS

from mmuss.models.necks import (
    DCADecoder,
    feature_pyramid,
    flatten_levels,
    reference_points,
    sine_position_embedding,
)


def bilinear(image, x, y):
    """Sample a (C, H, W) array at normalised (x, y) like grid_sample with
    align_corners=False and zero padding: pixel centres at (i + 0.5) / W."""
    channels, height, width = image.shape
    px, py = x * width - 0.5, y * height - 0.5
    x0, y0 = math.floor(px), math.floor(py)
    out = np.zeros(channels)
    for dy in (0, 1):
        for dx in (0, 1):
            weight = (1 - abs(px - x0 - dx)) * (1 - abs(py - y0 - dy))
            col, row = x0 + dx, y0 + dy
            if 0 <= col < width and 0 <= row < height:
                out += weight * image[:, row, col]
    return out


def reference_attention(values, shapes, locations, weights):
    """Deformable attention by loops: for each query and head, the weighted
    sum of bilinear samples of every level and point."""
    batch, _, heads, dims = values.shape
    queries = locations.shape[1]
    starts = np.concatenate([[0], np.cumsum([h * w for h, w in shapes])])
    out = np.zeros((batch, queries, heads * dims))
    for b in range(batch):
        for q in range(queries):
            for m in range(heads):
                total = np.zeros(dims)
                for level, (h, w) in enumerate(shapes):
                    tokens = values[b, starts[level] : starts[level + 1], m]
                    image = tokens.T.reshape(dims, h, w)
                    for p in range(locations.shape[4]):
                        x, y = locations[b, q, m, level, p]
                        sample = bilinear(image, x, y)
                        total += weights[b, q, m, level, p] * sample
                out[b, q, m * dims : (m + 1) * dims] = total
    return out


def test_mmcv_cpu_path_matches_the_bilinear_reference():
    rng = np.random.default_rng(0)
    shapes = [(4, 5), (2, 3)]
    values = rng.normal(size=(2, 26, 2, 3))
    locations = rng.uniform(-0.2, 1.2, size=(2, 7, 2, 2, 3, 2))
    weights = rng.random((2, 7, 2, 2, 3))
    got = multi_scale_deformable_attn_pytorch(
        torch.from_numpy(values),
        torch.tensor(shapes),
        torch.from_numpy(locations),
        torch.from_numpy(weights),
    )
    expected = reference_attention(values, shapes, locations, weights)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


def identity_attention(decoder, offset):
    """Make the decoder's attention plain sampling at ``offset`` pixels
    from each reference point: identity projections, one point."""
    attention = decoder.attentions[0]
    dims = attention.embed_dims
    for linear in (attention.value_proj, attention.output_proj):
        linear.weight.data.copy_(torch.eye(dims))
        linear.bias.data.zero_()
    attention.sampling_offsets.weight.data.zero_()
    attention.sampling_offsets.bias.data.copy_(torch.tensor(offset))
    return attention


def test_decoder_attention_samples_where_it_points():
    decoder = DCADecoder(
        4,
        2,
        3,
        embed_dims=4,
        num_heads=1,
        num_levels=1,
        num_points=1,
        dropout=0.0,
    )
    feats = torch.randn(1, 4, 3, 5)
    values, shapes, starts = flatten_levels(feature_pyramid(feats, 1))
    points = reference_points(3, 5, 1)
    queries = torch.randn(1, 15, 4)
    # zero offset: the reference points are the pixel centres
    attention = identity_attention(decoder, [0.0, 0.0])
    out = attention(
        query=queries,
        value=values,
        reference_points=points,
        spatial_shapes=shapes,
        level_start_index=starts,
    )
    assert torch.allclose(out - queries, values, atol=1e-6)
    # a (+0.5, -0.25) pixel offset: the bilinear reference
    attention = identity_attention(decoder, [0.5, -0.25])
    out = attention(
        query=queries,
        value=values,
        reference_points=points,
        spatial_shapes=shapes,
        level_start_index=starts,
    )
    image = feats[0].numpy().astype(np.float64)
    for q, (x, y) in enumerate(points[0, :, 0].tolist()):
        expected = bilinear(image, x + 0.5 / 5, y - 0.25 / 3)
        got = (out - queries)[0, q].detach().numpy()
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_output_shapes_and_a_batch_of_one():
    torch.manual_seed(0)
    decoder = DCADecoder(16, 5, 6, embed_dims=32, num_heads=4)
    assert decoder(torch.randn(2, 16, 7, 9), torch.randn(2, 6)).shape == (
        2,
        5,
        7,
        9,
    )
    decoder.eval()
    feats, vector = torch.randn(1, 16, 5, 5), torch.randn(1, 6)
    single = decoder(feats, vector)
    assert single.shape == (1, 5, 5, 5)
    batch = decoder(
        torch.cat([feats, torch.randn(1, 16, 5, 5)]),
        torch.cat([vector, torch.randn(1, 6)]),
    )
    assert torch.allclose(batch[:1], single, atol=1e-5)


@pytest.mark.parametrize('conditioning', ['add', 'film'])
def test_gradient_reaches_parameters_features_and_vector(conditioning):
    torch.manual_seed(0)
    decoder = DCADecoder(
        8,
        3,
        4,
        embed_dims=16,
        num_heads=2,
        num_levels=2,
        num_points=2,
        num_layers=2,
        feedforward_channels=32,
        dropout=0.0,
        conditioning=conditioning,
    )
    feats = torch.randn(2, 8, 6, 6, requires_grad=True)
    vector = torch.randn(2, 4, requires_grad=True)
    logits = decoder(feats, vector)
    (logits * torch.randn_like(logits)).sum().backward()
    assert feats.grad.abs().sum() > 0
    for name, parameter in decoder.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name
    if conditioning == 'add':
        assert vector.grad.abs().sum() > 0
        other = decoder(feats, torch.randn(2, 4))
        assert not torch.allclose(other, logits)
    else:  # FiLM starts as the identity: v has no effect yet
        assert vector.grad.abs().sum() == 0


def test_pyramid_levels_and_token_layout():
    feats = torch.arange(2 * 7 * 7, dtype=torch.float32).view(1, 2, 7, 7)
    levels = feature_pyramid(feats, 3)
    assert [tuple(level.shape[-2:]) for level in levels] == [
        (7, 7),
        (4, 4),
        (2, 2),
    ]
    assert levels[1][0, 0, 0, 0] == feats[0, 0, :2, :2].mean()
    values, shapes, starts = flatten_levels(levels)
    assert values.shape == (1, 49 + 16 + 4, 2)
    assert shapes.tolist() == [[7, 7], [4, 4], [2, 2]]
    assert starts.tolist() == [0, 49, 65]
    assert torch.equal(values[0, 50], levels[1][0, :, 0, 1])


def test_reference_points_and_position_embedding():
    points = reference_points(2, 4, 3)
    assert points.shape == (1, 8, 3, 2)
    assert points[0, 5, 2].tolist() == [0.375, 0.75]  # x = 1.5/4, y = 1.5/2
    embedding = sine_position_embedding(2, 4, 8)
    assert embedding.shape == (1, 8, 8)
    # [sin, cos] of y then x, at frequency 1 and 1/100
    y, x = 2 * math.pi * 0.75, 2 * math.pi * 0.375
    expected = [
        math.sin(y),
        math.sin(y / 100),
        math.cos(y),
        math.cos(y / 100),
        math.sin(x),
        math.sin(x / 100),
        math.cos(x),
        math.cos(x / 100),
    ]
    assert embedding[0, 5].tolist() == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match='divisible by 4, got 6'):
        sine_position_embedding(2, 2, 6)


def test_bad_inputs_and_options_are_named():
    decoder = DCADecoder(8, 3, 4, embed_dims=16, num_heads=2)
    with pytest.raises(ValueError, match='in_channels=8, the features have 6'):
        decoder(torch.randn(1, 6, 4, 4), torch.randn(1, 4))
    with pytest.raises(ValueError, match=r'\(1, 4\), got \(1, 5\)'):
        decoder(torch.randn(1, 8, 4, 4), torch.randn(1, 5))
    with pytest.raises(ValueError, match='one .* tensor, got list'):
        decoder([torch.randn(1, 8, 4, 4)], torch.randn(1, 4))
    with pytest.raises(ValueError, match="conditioning .*'concat'"):
        DCADecoder(8, 3, 4, conditioning='concat')
    with pytest.raises(ValueError, match='embed_dims=20 .* num_heads=8'):
        DCADecoder(8, 3, 4, embed_dims=20)
    with pytest.raises(ValueError, match='num_levels must be >= 1, got 0'):
        DCADecoder(8, 3, 4, num_levels=0)


def test_builds_from_the_registry():
    decoder = MODELS.build(
        dict(
            type='DCADecoder',
            in_channels=384,
            num_classes=27,
            vector_channels=128,
        )
    )
    assert isinstance(decoder, DCADecoder)
    assert decoder.attentions[0].num_levels == 3
