# Copyright (c) mmuss contributors. All rights reserved.
import gudhi
import numpy as np
import pytest
from gudhi.hera import wasserstein_distance

from mmuss.models.utils import (
    NO_PIXEL,
    critical_pixels,
    gudhi_to_row_major,
    hungarian_matching,
    mask_betti_numbers,
    match_diagrams,
    matching_cost,
    matching_to_identical_points,
    reference_diagrams,
    superlevel_diagrams,
)

# a ring of high probability around a dip: one component born at 0.9,
# one hole born when the last 4-neighbour of the centre enters (0.6) and
# filled by the centre (0.3); 4 x 5 so that gudhi's column-major indices
# differ from row-major ones
RING = np.array(
    [
        [0.1, 0.1, 0.1, 0.1, 0.1],
        [0.1, 0.9, 0.8, 0.7, 0.1],
        [0.1, 0.6, 0.3, 0.7, 0.1],
        [0.1, 0.7, 0.7, 0.7, 0.1],
    ]
)

# two peaks (0.9 and 0.6) joined by a ridge whose lowest pixel is 0.3
TWO_PEAKS = np.array(
    [
        [0.9, 0.35, 0.3, 0.4, 0.1],
        [0.8, 0.1, 0.1, 0.6, 0.1],
        [0.1, 0.1, 0.1, 0.1, 0.1],
    ]
)


def gudhi_pairs(prob, dim):
    """(birth, death) probabilities of gudhi's own ``persistence()``,
    essential deaths read as 0."""
    complex_ = gudhi.CubicalComplex(top_dimensional_cells=-prob)
    pairs = [
        (-birth, 0.0 if np.isinf(death) else -death)
        for d, (birth, death) in complex_.persistence()
        if d == dim
    ]
    return sorted(pair for pair in pairs if pair[0] > pair[1])


def test_gudhi_index_order_is_column_major():
    # gudhi's index 6 is (row 2, col 1) of a 4 x 5 map: 6 = 1 * 4 + 2
    assert gudhi_to_row_major(np.array([6]), (4, 5)).tolist() == [11]
    # and (row 1, col 1) of a 5 x 4 map: 6 = 1 * 5 + 1
    assert gudhi_to_row_major(np.array([6]), (5, 4)).tolist() == [5]


def test_ring_diagram_hand_computed():
    diagrams = superlevel_diagrams(RING)
    assert diagrams[0].values.tolist() == [[0.9, 0.0]]
    assert diagrams[0].pixels.tolist() == [[6, NO_PIXEL]]
    assert diagrams[1].values.tolist() == [[0.6, 0.3]]
    assert diagrams[1].pixels.tolist() == [[11, 12]]  # (2, 1) and (2, 2)
    # the transposed map (5 x 4) has the transposed pixels
    transposed = superlevel_diagrams(RING.T)
    assert transposed[1].pixels.tolist() == [[1 * 4 + 2, 2 * 4 + 2]]


def test_two_peaks_diagram_hand_computed():
    diagrams = superlevel_diagrams(TWO_PEAKS, dims=(0,))
    assert set(diagrams) == {0}
    order = np.argsort(-diagrams[0].values[:, 0])
    assert diagrams[0].values[order].tolist() == [[0.9, 0.0], [0.6, 0.3]]
    assert diagrams[0].pixels[order].tolist() == [[0, NO_PIXEL], [8, 2]]


def test_essential_death_at_the_minimum():
    prob = TWO_PEAKS.copy()
    prob[2, 4] = 0.05
    diagrams = superlevel_diagrams(prob, dims=(0,), essential_death='min')
    essential = diagrams[0].pixels[:, 0] == 0
    assert diagrams[0].pixels[essential].tolist() == [[0, 14]]
    assert diagrams[0].values[essential].tolist() == [[0.9, 0.05]]
    with pytest.raises(ValueError, match="'max'"):
        superlevel_diagrams(prob, essential_death='max')


@pytest.mark.parametrize('shape', [(7, 11), (9, 4), (6, 6)])
def test_diagrams_equal_gudhi_persistence(shape):
    prob = np.random.default_rng(sum(shape)).random(shape)
    diagrams = superlevel_diagrams(prob)
    for dim in (0, 1):
        values, pixels = diagrams[dim]
        assert sorted(map(tuple, values.tolist())) == gudhi_pairs(prob, dim)
        # the pixels hold the values (row-major, NO_PIXEL reads 0)
        read = np.append(prob.ravel(), 0.0)[pixels]
        np.testing.assert_array_equal(read, values)
    assert len(diagrams[1].values) > 0  # noise has holes


def test_reference_diagrams_of_masks():
    mask = np.zeros((6, 7), dtype=bool)
    mask[1:4, 1:4] = True
    mask[2, 2] = False  # a hole
    mask[0, 6] = mask[5, 6] = True  # two more components
    assert mask_betti_numbers(mask) == (3, 1)
    diagrams = reference_diagrams(mask)
    assert diagrams[0].tolist() == [[1.0, 0.0]] * 3
    assert diagrams[1].tolist() == [[1.0, 0.0]]
    # diagonal neighbours touch: one component, and they cut the
    # background 4-connectedly: a diagonal ring encloses a hole
    assert mask_betti_numbers(np.eye(4, dtype=bool)) == (1, 0)
    diamond = np.zeros((5, 5), dtype=bool)
    diamond[[0, 1, 1, 2, 2, 3, 3, 4], [2, 1, 3, 0, 4, 1, 3, 2]] = True
    assert mask_betti_numbers(diamond) == (1, 1)
    empty = reference_diagrams(np.zeros((3, 3), dtype=bool))
    assert len(empty[0]) == len(empty[1]) == 0
    full = np.ones((3, 4), dtype=bool)
    assert reference_diagrams(full)[0].tolist() == [[1.0, 0.0]]
    assert len(reference_diagrams(full, essential_death='min')[0]) == 0


@pytest.mark.parametrize('essential_death', ['zero', 'min'])
@pytest.mark.parametrize('shape', [(9, 13), (12, 5)])
def test_reference_diagrams_equal_gudhi(shape, essential_death):
    rng = np.random.default_rng(shape[0])
    for density in (0.0, 0.3, 0.5, 0.7, 1.0):
        mask = rng.random(shape) < density
        counted = reference_diagrams(mask, essential_death=essential_death)
        computed = superlevel_diagrams(
            mask.astype(np.float64), essential_death=essential_death
        )
        for dim in (0, 1):
            assert counted[dim].tolist() == computed[dim].values.tolist()


@pytest.mark.parametrize('order, internal_p', [(2.0, 2.0), (1.0, np.inf)])
def test_hungarian_matching_is_wasserstein_optimal(order, internal_p):
    rng = np.random.default_rng(3)
    for n, m in [(6, 4), (3, 7), (5, 5)]:
        predicted = np.sort(rng.random((n, 2)), axis=1)[:, ::-1]
        reference = np.sort(rng.random((m, 2)), axis=1)[:, ::-1]
        partners = hungarian_matching(predicted, reference, order, internal_p)
        matched = partners[partners >= 0]
        assert len(set(matched.tolist())) == len(matched)  # one-to-one
        cost = matching_cost(predicted, reference, partners, order, internal_p)
        expected = wasserstein_distance(
            predicted, reference, order, internal_p, delta=1e-8
        )
        assert cost ** (1 / order) == pytest.approx(expected, rel=1e-6)


def test_identical_reference_shortcut_equals_hungarian():
    rng = np.random.default_rng(4)
    for m in (1, 2, 5):
        predicted = np.sort(rng.random((9, 2)), axis=1)[:, ::-1]
        reference = np.tile([[1.0, 0.0]], (m, 1))
        fast = matching_to_identical_points(predicted, reference)
        slow = hungarian_matching(predicted, reference)
        assert matching_cost(predicted, reference, fast) == pytest.approx(
            matching_cost(predicted, reference, slow)
        )
        assert (fast >= 0).sum() <= m


def test_match_diagrams_hand_computed():
    predicted = np.array([[0.4, 0.3], [0.9, 0.1], [0.8, 0.2]])
    reference = np.array([[1.0, 0.0]])
    # (0.9, 0.1) is closest to (1, 0); the others go to the diagonal
    assert match_diagrams(predicted, reference).tolist() == [-1, 0, -1]
    two = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert sorted(match_diagrams(predicted, two).tolist()) == [-1, 0, 1]
    assert match_diagrams(predicted, np.zeros((0, 2))).tolist() == [-1] * 3
    assert len(match_diagrams(np.zeros((0, 2)), reference)) == 0


def test_critical_pixels_split_signal_from_noise():
    mask = np.zeros(TWO_PEAKS.shape, dtype=bool)
    mask[:2, 0] = True  # one component: the 0.6 peak is spurious
    split = critical_pixels(TWO_PEAKS, mask)
    assert split.matched.tolist() == [[0, NO_PIXEL]]
    assert split.unmatched.tolist() == [[8, 2]]
    # the ring's hole is noise for a filled disc, signal for a ring mask
    disc = RING > 0.2
    assert critical_pixels(RING, disc).unmatched.tolist() == [[11, 12]]
    ring = disc & (RING != 0.3)
    assert critical_pixels(RING, ring).matched.tolist() == [
        [6, NO_PIXEL],
        [11, 12],
    ]
    assert len(critical_pixels(RING, disc, dims=(0,)).unmatched) == 0
