# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's DBC module (§3.2): the four descriptors, the two MLPs and the
paper's ablation switches."""

import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

from mmuss.models.necks import DifferentiableBoxCounting, StructureVectors


def numpy_fraction(mask, size):
    """Occupied fraction of the s x s grid of a binary mask."""
    height, width = mask.shape
    boxes = [
        mask[top : top + size, left : left + size].any()
        for top in range(0, height, size)
        for left in range(0, width, size)
    ]
    return np.mean(boxes)


def square_scene():
    """16 x 16 labels: class 0 in an 8 x 8 top-left square, class 1
    elsewhere, class 2 absent; a depth step along the same square."""
    labels = torch.ones(1, 16, 16, dtype=torch.long)
    labels[0, :8, :8] = 0
    depth = torch.zeros(1, 1, 16, 16)
    depth[0, 0, :8, :8] = 5.0
    return labels, depth


def test_signatures_of_a_square_match_the_numpy_reference():
    sizes = (2, 4, 8, 16)
    module = DifferentiableBoxCounting(3, box_sizes=sizes)
    labels, depth = square_scene()
    signatures = module.signatures(labels, depth)
    assert signatures['SA'].shape == (1, 3, 4)
    assert signatures['DA'].shape == (1, 1, 4)
    masks = [labels[0].numpy() == k for k in range(3)]
    for k, mask in enumerate(masks):
        expected = [numpy_fraction(mask, s) for s in sizes]
        assert signatures['SA'][0, k].tolist() == pytest.approx(expected)
    # the boundary of the square is the two-pixel band around its edge
    band = np.zeros((16, 16), bool)
    band[:9, :9] = True
    band[:7, :7] = False
    for k in (0, 1):
        expected = [numpy_fraction(band, s) for s in sizes]
        assert signatures['SB'][0, k].tolist() == pytest.approx(expected)
    assert signatures['SB'][0, 2].abs().max() == 0
    # roughness (5 x 5 window) is nonzero 2 pixels either side of the depth
    # step, edges (3 x 3 Sobel) 1 pixel: at boxes of 2 and more both fill
    # the boxes of the same band
    depth_band = np.zeros((16, 16), bool)
    depth_band[:10, :10] = True
    depth_band[:6, :6] = False
    maps = module.descriptor_maps(*module.prepare_inputs(labels, depth))
    for name in ('DA', 'DB'):
        expected = [numpy_fraction(depth_band, s) for s in sizes]
        counted = module.describe((maps[name] > 0).float())
        assert counted[0, 0].tolist() == pytest.approx(expected)


def test_vectors_shapes_and_flat_depth():
    module = DifferentiableBoxCounting(5, out_channels=16, hidden_channels=8)
    labels = torch.randint(0, 5, (2, 40, 40))
    vectors = module(labels, torch.rand(2, 40, 40))
    assert isinstance(vectors, StructureVectors)
    assert vectors.semantic.shape == (2, 16) == vectors.depth.shape
    assert vectors.joint.shape == (2, 32)
    assert torch.equal(vectors.joint[:, :16], vectors.semantic)
    signatures = module.signatures(labels, torch.full((2, 40, 40), 3.0))
    assert signatures['DA'].abs().max() == 0
    assert signatures['DB'].abs().max() == 0
    assert signatures['SA'].shape == (2, 5, 6)


def test_batch_of_one():
    module = DifferentiableBoxCounting(4)
    vectors = module(torch.randint(0, 4, (1, 24, 24)), torch.rand(1, 24, 24))
    assert vectors.joint.shape == (1, 128)


def test_gradient_reaches_probabilities_depth_and_both_mlps():
    torch.manual_seed(0)
    module = DifferentiableBoxCounting(3, box_sizes=(2, 4, 8))
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    depth = torch.rand(2, 1, 16, 16, requires_grad=True)
    vectors = module(logits.softmax(1), depth)
    (vectors.semantic.sum() + vectors.depth.square().sum()).backward()
    assert logits.grad.abs().sum() > 0 and depth.grad.abs().sum() > 0
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name


def test_sum_over_classes_ignores_the_class_ids():
    torch.manual_seed(0)
    module = DifferentiableBoxCounting(4, class_reduction='sum')
    labels = torch.randint(0, 4, (2, 32, 32))
    depth = torch.rand(2, 32, 32)
    permuted = torch.tensor([2, 0, 3, 1])[labels]
    assert torch.allclose(
        module(labels, depth).semantic, module(permuted, depth).semantic
    )
    flat = DifferentiableBoxCounting(4)
    assert not torch.allclose(
        flat(labels, depth).semantic, flat(permuted, depth).semantic
    )


def test_ablation_switches():
    labels, depth = square_scene()
    slope = DifferentiableBoxCounting(3, signature='slope')
    assert slope.signatures(labels, depth)['SA'].shape == (1, 3, 1)
    assert slope.semantic_mlp[0].in_features == 2 * 3
    assert slope(labels, depth).joint.shape == (1, 128)
    subset = DifferentiableBoxCounting(3, descriptors=('DB', 'SA'))
    assert subset.descriptors == ('SA', 'DB')
    assert set(subset.signatures(labels, depth)) == {'SA', 'DB'}
    assert subset.semantic_mlp[0].in_features == 3 * 6
    assert subset.depth_mlp[0].in_features == 6
    wide = DifferentiableBoxCounting(3, box_sizes='g')
    assert wide.signatures(labels, depth)['SB'].shape == (1, 3, 7)
    single = DifferentiableBoxCounting(3, box_sizes=(8,), pool='avg')
    average = single.signatures(labels, depth)['SA'][0, :, 0]
    assert average.tolist() == pytest.approx([0.25, 0.75, 0.0])


def test_resizing_to_a_common_size():
    module = DifferentiableBoxCounting(3, size=16)
    labels, depth = square_scene()
    big_depth = torch.nn.functional.interpolate(depth, size=(32, 32))
    assert torch.allclose(
        module.signatures(labels, big_depth)['SA'],
        module.signatures(
            torch.nn.functional.interpolate(
                labels[:, None].float(), size=(48, 48)
            )[:, 0].long(),
            depth,
        )['SA'],
    )


def test_bad_inputs_are_named():
    module = DifferentiableBoxCounting(3)
    labels, depth = square_scene()
    with pytest.raises(ValueError, match=r'\(16, 16\) pixels, depth \(8, 8\)'):
        module(labels, depth[..., :8, :8])
    with pytest.raises(ValueError, match='segmentation has 1 images, depth 2'):
        module(labels, torch.rand(2, 16, 16))
    with pytest.raises(ValueError, match=r'depth must be .* got shape'):
        module(labels, torch.rand(1, 2, 16, 16))
    with pytest.raises(ValueError, match='depth must be floating point'):
        module(labels, torch.ones(1, 16, 16, dtype=torch.long))
    with pytest.raises(ValueError, match='label 3 is outside'):
        module(labels + 2, depth)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(descriptors=('SA', 'SB')), r"leave out both of \('DA', 'DB'\)"),
        (
            dict(descriptors=('SA', 'XX', 'DA')),
            r"unknown descriptors \['XX'\]",
        ),
        (dict(descriptors=('SA', 'SA', 'DA')), 'must not repeat'),
        (dict(pool='median'), "pool must be one of .*'median'"),
        (dict(signature='slope', box_sizes=(4,)), 'at least 2 box sizes'),
        (dict(count_norm='z'), "count_norm must be one of .*'z'"),
        (dict(class_reduction='max'), "class_reduction .*'max'"),
        (dict(boundary_kernel=2), 'boundary_kernel must be odd, got 2'),
        (dict(variance_window=0), 'variance_window must be a positive odd'),
        (dict(box_sizes='h'), "preset must be one of .*'h'"),
        (dict(num_classes=0), 'num_classes must be >= 1, got 0'),
    ],
)
def test_bad_options_are_named(kwargs, message):
    options = {'num_classes': 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        DifferentiableBoxCounting(**options)


def test_builds_from_the_registry():
    module = MODELS.build(
        dict(type='DifferentiableBoxCounting', num_classes=3, box_sizes='g')
    )
    assert isinstance(module, DifferentiableBoxCounting)
    assert module.box_sizes[-1] == 128
