# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's box counting (§3.2, Eqs. 3-5, supplement Eq. XII) and the maps
of its four descriptors, against numpy / scipy references."""

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch.autograd import gradcheck

from mmuss.models.utils import (
    BOX_SIZE_PRESETS,
    box_count_signature,
    box_counting_dimension,
    class_masks,
    classical_box_count,
    differentiable_box_count,
    local_variance,
    morphological_gradient,
    normalise_counts,
    normalise_depth,
    number_of_boxes,
    resolve_box_sizes,
    sobel_magnitude,
)


def numpy_boxes(array, size):
    """The s x s boxes of a 2-D array from its top-left corner (partial
    boxes at the right and bottom)."""
    height, width = array.shape
    return [
        array[top : top + size, left : left + size]
        for top in range(0, height, size)
        for left in range(0, width, size)
    ]


def numpy_count(array, size):
    """Eq. 3 by brute force: boxes holding a nonzero value."""
    return sum(bool((box > 0).any()) for box in numpy_boxes(array, size))


def numpy_max_sum(array, size):
    """Eq. 4 by brute force: the sum of the box maxima."""
    return sum(box.max() for box in numpy_boxes(array, size))


def as_maps(array, dtype=torch.float64):
    return torch.as_tensor(np.asarray(array), dtype=dtype)[None, None]


SIZES = (1, 2, 4, 8, 16)


def filled_square():
    return np.ones((16, 16))


def horizontal_line():
    mask = np.zeros((16, 16))
    mask[5] = 1
    return mask


def single_pixel():
    mask = np.zeros((16, 16))
    mask[3, 9] = 1
    return mask


@pytest.mark.parametrize(
    'mask, counts, dimension',
    [
        (filled_square(), [256, 64, 16, 4, 1], 2.0),
        (horizontal_line(), [16, 8, 4, 2, 1], 1.0),
        (single_pixel(), [1, 1, 1, 1, 1], 0.0),
    ],
)
def test_known_shapes_have_known_counts_and_dimension(mask, counts, dimension):
    maps = as_maps(mask)
    signature = box_count_signature(maps, SIZES)
    assert signature[0, 0].tolist() == counts
    classical = [classical_box_count(maps, s).item() for s in SIZES]
    assert classical == counts
    slope = box_counting_dimension(signature, SIZES)
    assert slope.shape == (1, 1, 1)
    assert slope.item() == pytest.approx(dimension, abs=1e-5)


def test_sierpinski_carpet_has_its_fractal_dimension():
    carpet = np.ones((1, 1))
    for _ in range(3):
        hole = np.zeros_like(carpet)
        carpet = np.block(
            [[carpet, carpet, carpet], [carpet, hole, carpet]]
            + [[carpet, carpet, carpet]]
        )
    sizes = (1, 3, 9, 27)
    signature = box_count_signature(as_maps(carpet), sizes)
    assert signature[0, 0].tolist() == [512, 64, 8, 1]
    slope = box_counting_dimension(signature, sizes).item()
    assert slope == pytest.approx(np.log(8) / np.log(3), abs=1e-5)


def test_binary_masks_match_the_numpy_count_on_uneven_sizes():
    rng = np.random.default_rng(0)
    masks = (rng.random((3, 13, 17)) < 0.05).astype(np.float64)
    maps = torch.from_numpy(masks)[:, None]
    sizes = (2, 3, 4, 8, 32)
    signature = box_count_signature(maps, sizes)
    for index, mask in enumerate(masks):
        expected = [numpy_count(mask, s) for s in sizes]
        assert signature[index, 0].tolist() == expected
        classical = [classical_box_count(maps, s)[index, 0] for s in sizes]
        assert [c.item() for c in classical] == expected


def test_soft_maps_sum_their_box_maxima():
    rng = np.random.default_rng(1)
    array = rng.random((2, 3, 9, 11))
    signature = box_count_signature(torch.from_numpy(array), (2, 4, 16))
    for b in range(2):
        for c in range(3):
            expected = [numpy_max_sum(array[b, c], s) for s in (2, 4, 16)]
            np.testing.assert_allclose(signature[b, c].numpy(), expected)


def test_hand_computed_max_and_average_counts():
    maps = as_maps(
        [
            [0.1, 0.2, 0.0, 0.0],
            [0.3, 0.4, 0.0, 0.9],
            [0.0, 0.0, 0.5, 0.5],
            [0.0, 0.8, 0.5, 0.5],
        ]
    )
    # boxes: (0.1 0.2 0.3 0.4), (0 0 0 0.9), (0 0 0 0.8), (0.5 x4)
    max_count = differentiable_box_count(maps, 2).item()
    assert max_count == pytest.approx(0.4 + 0.9 + 0.8 + 0.5)
    avg_count = differentiable_box_count(maps, 2, pool='avg').item()
    assert avg_count == pytest.approx(0.25 + 0.225 + 0.2 + 0.5)
    # the classical count ignores the values: 4 occupied boxes, 2 above 0.6
    assert classical_box_count(maps, 2).item() == 4
    assert classical_box_count(maps, 2, threshold=0.6).item() == 2


def test_signature_gradient_is_exact():
    maps = torch.rand(2, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda x: box_count_signature(x, (1, 2, 4)), (maps,))
    # only the maximal pixel of each box gets a gradient
    single = torch.rand(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    differentiable_box_count(single, 4).sum().backward()
    expected = torch.zeros(16, dtype=torch.float64)
    expected[single.detach().flatten().argmax()] = 1
    assert torch.equal(single.grad.flatten(), expected)


def test_dimension_gradient_is_exact():
    counts = (torch.rand(2, 3, 4, dtype=torch.float64) + 0.5).requires_grad_()
    assert gradcheck(
        lambda x: box_counting_dimension(x, (2, 4, 8, 16)), counts
    )


def test_fraction_normalisation_is_one_for_a_full_map():
    maps = torch.ones(1, 1, 13, 17)
    sizes = (2, 3, 64)
    counts = box_count_signature(maps, sizes)
    assert counts[0, 0].tolist() == [number_of_boxes(13, 17, s) for s in sizes]
    assert number_of_boxes(13, 17, 2) == 7 * 9
    fraction = normalise_counts(counts, sizes, 13, 17, 'fraction')
    assert torch.allclose(fraction, torch.ones(1, 1, 3))
    log = normalise_counts(counts, sizes, 13, 17, 'log')
    assert torch.allclose(log, torch.log1p(counts))
    assert normalise_counts(counts, sizes, 13, 17, 'none') is counts
    with pytest.raises(ValueError, match="'sqrt'"):
        normalise_counts(counts, sizes, 13, 17, 'sqrt')


def test_class_masks_of_labels_and_probabilities():
    labels = torch.tensor([[[0, 2], [255, 1]]])
    masks = class_masks(labels, 3)
    assert masks.shape == (1, 3, 2, 2) and masks.dtype == torch.float32
    assert masks[0, :, 1, 0].tolist() == [0, 0, 0]  # ignored pixel
    assert masks[0, :, 0, 1].tolist() == [0, 0, 1]
    probs = torch.rand(1, 3, 2, 2)
    assert class_masks(probs, 3) is probs
    with pytest.raises(ValueError, match=r'label 7 is outside \[0, 3\)'):
        class_masks(torch.tensor([[[0, 7]]]), 3)
    with pytest.raises(ValueError, match='4 channels, expected num_classes=3'):
        class_masks(torch.rand(1, 4, 2, 2), 3)
    with pytest.raises(ValueError, match=r'\(B, H, W\)'):
        class_masks(torch.zeros(2, 2, dtype=torch.long), 3)


def test_morphological_gradient_matches_scipy():
    rng = np.random.default_rng(2)
    masks = (rng.random((2, 9, 10)) < 0.4).astype(np.float64)
    masks[0, 3:7, 2:8] = 1
    result = morphological_gradient(torch.from_numpy(masks)[:, None], 3)
    for mask, got in zip(masks, result[:, 0].numpy()):
        expected = ndimage.grey_dilation(
            mask, size=3, mode='nearest'
        ) - ndimage.grey_erosion(mask, size=3, mode='nearest')
        np.testing.assert_array_equal(got, expected)
    # a full mask has no boundary, not even at the image border
    assert morphological_gradient(torch.ones(1, 1, 5, 5)).abs().sum() == 0
    with pytest.raises(ValueError, match='boundary kernel_size must be odd'):
        morphological_gradient(torch.ones(1, 1, 5, 5), 4)


def test_local_variance_matches_a_brute_force_window():
    rng = np.random.default_rng(3)
    depth = rng.random((7, 8))
    got = local_variance(as_maps(depth), 5)[0, 0].numpy()
    expected = np.array(
        [
            [
                depth[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3].var()
                for x in range(8)
            ]
            for y in range(7)
        ]
    )
    np.testing.assert_allclose(got, expected, atol=1e-12)
    flat = local_variance(torch.full((1, 1, 6, 6), 0.3))
    assert flat.abs().max() < 1e-7


def test_sobel_magnitude_matches_scipy():
    rng = np.random.default_rng(4)
    depth = rng.random((6, 9))
    got = sobel_magnitude(as_maps(depth))[0, 0].numpy()
    gx = ndimage.sobel(depth, axis=1, mode='nearest') / 8
    gy = ndimage.sobel(depth, axis=0, mode='nearest') / 8
    magnitude = np.hypot(gx, gy)
    shifted = np.sqrt(magnitude**2 + 1e-6) - 1e-3
    np.testing.assert_allclose(got, shifted, atol=1e-12)
    tiny_eps = sobel_magnitude(as_maps(depth), eps=1e-14)[0, 0].numpy()
    np.testing.assert_allclose(tiny_eps, magnitude, atol=1e-6)
    assert sobel_magnitude(torch.ones(1, 1, 4, 4)).abs().max() == 0


def test_descriptor_maps_are_differentiable():
    depth = torch.rand(1, 1, 6, 7, dtype=torch.float64, requires_grad=True)
    assert gradcheck(local_variance, (depth,))
    assert gradcheck(sobel_magnitude, (depth,))
    assert gradcheck(normalise_depth, (depth,))
    masks = torch.rand(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    assert gradcheck(morphological_gradient, (masks,))


def test_depth_normalisation_spans_zero_to_one():
    depth = torch.tensor([[[[2.0, 4.0], [3.0, 6.0]]], [[[1.0, 1.0]] * 2]])
    normalised = normalise_depth(depth)
    assert normalised[0, 0].tolist() == [[0.0, 0.5], [0.25, 1.0]]
    assert normalised[1].abs().max() == 0


def test_box_sizes_presets_and_errors():
    assert resolve_box_sizes('f') == (2, 4, 8, 16, 32, 64)
    assert resolve_box_sizes('g') == BOX_SIZE_PRESETS['f'] + (128,)
    assert resolve_box_sizes([3, 5]) == (3, 5)
    with pytest.raises(ValueError, match="'z'"):
        resolve_box_sizes('z')
    with pytest.raises(ValueError, match='at least one'):
        resolve_box_sizes(())
    with pytest.raises(ValueError, match='got 0'):
        resolve_box_sizes((2, 0))
    with pytest.raises(ValueError, match='got 2.5'):
        resolve_box_sizes((2.5,))
    with pytest.raises(ValueError, match='repeat'):
        resolve_box_sizes((2, 2))
    with pytest.raises(ValueError, match='at least 2 box sizes'):
        box_counting_dimension(torch.ones(1, 1, 1), (4,))


def test_maps_must_be_float_four_dimensional():
    with pytest.raises(ValueError, match=r'maps must be \(B, C, H, W\)'):
        differentiable_box_count(torch.ones(4, 4), 2)
    with pytest.raises(ValueError, match='floating point'):
        box_count_signature(torch.ones(1, 1, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="'min'"):
        differentiable_box_count(torch.ones(1, 1, 4, 4), 2, pool='min')
