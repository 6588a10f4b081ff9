# Copyright (c) mmuss contributors. All rights reserved.
"""Persistence diagrams of probability maps and their optimal matching.

The pure (numpy) half of MSSSeg's persistent-homology loss (`MSSSeg
<https://arxiv.org/abs/2512.23997>`_, Li et al., §3.4): the superlevel-set
filtration of a probability map computed with gudhi's ``CubicalComplex``,
the reference diagram of a pseudo-label mask, and the optimal (Wasserstein)
bipartite matching that splits the predicted pairs into true signals and
structural noise. Every pair keeps the pixels that create and destroy it,
so the loss can gather the network's probabilities there
(:class:`mmuss.models.losses.PHLoss`).

Conventions:

* Pixels are the top-dimensional cells of the cubical complex, filtered by
  ``-p``: a threshold sweeping p from 1 down to 0 adds a pixel when p
  reaches it. Pixels sharing only a corner are adjacent (a cell contains
  its corner vertices), so H0 counts 8-connected components; H1 counts
  holes (4-connected background regions not touching the border).
* A diagram holds (birth, death) in probability units, birth >= death.
  Pairs of zero persistence (birth == death) carry no structure and are
  dropped.
* The image grid is contractible, so the only essential (never dying)
  class is the first H0 component, born at max p. Its death is a choice
  (``essential_death``): ``'zero'`` (default) closes it at probability 0,
  the level where the sweep ends, with no pixel and so no gradient;
  ``'min'`` closes it at the map's smallest probability, at that pixel.
"""

from typing import Dict, NamedTuple, Sequence, Tuple

import gudhi
import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

NO_PIXEL = -1
"""Pixel index of a death at the constant probability 0."""

ESSENTIAL_DEATHS = ('zero', 'min')


class Diagram(NamedTuple):
    """A persistence diagram with its critical pixels.

    Attributes:
        values (np.ndarray): (n, 2) float64 (birth, death) probabilities.
        pixels (np.ndarray): (n, 2) int64 row-major indices of the birth
            and death pixels, :data:`NO_PIXEL` for a constant death at 0.
    """

    values: np.ndarray
    pixels: np.ndarray


class CriticalPixels(NamedTuple):
    """The predicted pairs of one map, split by the matching.

    Attributes:
        matched (np.ndarray): (n, 2) birth/death pixels of the pairs
            matched to a reference pair (true signals, MSSSeg Eq. 9).
        unmatched (np.ndarray): (m, 2) birth/death pixels of the pairs
            matched to the diagonal (structural noise, MSSSeg Eq. 10).
    """

    matched: np.ndarray
    unmatched: np.ndarray


def gudhi_to_row_major(
    indices: np.ndarray, shape: Sequence[int]
) -> np.ndarray:
    """Row-major flat pixel indices from gudhi's flat cell indices.

    ``CubicalComplex.cofaces_of_persistence_pairs`` numbers the top cells
    of an (H, W) array in column-major (Fortran) order.

    Args:
        indices (np.ndarray): Flat indices in gudhi's order.
        shape (Sequence[int]): (H, W) of the map.

    Returns:
        np.ndarray: int64 indices into ``map.ravel()`` (C order).
    """
    indices = np.asarray(indices, dtype=np.int64)
    rows, cols = np.unravel_index(indices, tuple(shape), order='F')
    return np.ravel_multi_index((rows, cols), tuple(shape)).astype(np.int64)


def _empty_diagram() -> Diagram:
    return Diagram(
        np.zeros((0, 2), dtype=np.float64), np.zeros((0, 2), dtype=np.int64)
    )


def essential_death_pixels(
    prob: np.ndarray, count: int, essential_death: str = 'zero'
) -> np.ndarray:
    """Death pixels of ``count`` essential classes of ``prob``.

    Args:
        prob (np.ndarray): (H, W) probability map.
        count (int): Number of essential classes.
        essential_death (str): ``'zero'`` (death at the constant 0,
            :data:`NO_PIXEL`) or ``'min'`` (at the smallest pixel).

    Returns:
        np.ndarray: (count,) int64 pixel indices.
    """
    if essential_death not in ESSENTIAL_DEATHS:
        raise ValueError(
            f'essential_death must be one of {ESSENTIAL_DEATHS}, '
            f'got {essential_death!r}'
        )
    pixel = NO_PIXEL if essential_death == 'zero' else int(prob.argmin())
    return np.full(count, pixel, dtype=np.int64)


def superlevel_diagrams(
    prob: np.ndarray,
    dims: Sequence[int] = (0, 1),
    essential_death: str = 'zero',
) -> Dict[int, Diagram]:
    """Persistence diagrams of the superlevel-set filtration of a map.

    MSSSeg §3.4: a threshold sweeps from 1 down to 0; a component (H0) is
    born at a local maximum and dies when it merges into an older one at a
    saddle, a hole (H1) is born when a loop closes and dies when it is
    filled. Computed by gudhi on the cubical complex whose top cells are
    the pixels with filtration ``-prob``.

    Args:
        prob (np.ndarray): (H, W) map with values in [0, 1].
        dims (Sequence[int]): Homology dimensions to return.
        essential_death (str): Death of the essential H0 class, see
            :func:`essential_death_pixels`.

    Returns:
        dict[int, Diagram]: Diagram of each dimension in ``dims``, zero
        persistence pairs removed.
    """
    prob = np.asarray(prob, dtype=np.float64)
    if prob.ndim != 2:
        raise ValueError(f'expected an (H, W) map, got shape {prob.shape}')
    complex_ = gudhi.CubicalComplex(top_dimensional_cells=-prob)
    complex_.compute_persistence()
    regular, essential = complex_.cofaces_of_persistence_pairs()
    flat = prob.ravel()
    diagrams = {}
    for dim in dims:
        pixels = []
        if dim < len(regular) and len(regular[dim]):
            pixels.append(gudhi_to_row_major(regular[dim], prob.shape))
        if dim < len(essential) and len(essential[dim]):
            births = gudhi_to_row_major(essential[dim], prob.shape)
            deaths = essential_death_pixels(prob, len(births), essential_death)
            pixels.append(np.stack([births, deaths], axis=1))
        if not pixels:
            diagrams[dim] = _empty_diagram()
            continue
        pixels = np.concatenate(pixels).reshape(-1, 2)
        values = np.append(flat, 0.0)[pixels]  # NO_PIXEL reads the 0
        keep = values[:, 0] > values[:, 1]
        diagrams[dim] = Diagram(values[keep], pixels[keep])
    return diagrams


def mask_betti_numbers(mask: np.ndarray) -> Tuple[int, int]:
    """Betti numbers of a binary mask as a union of closed pixel squares.

    beta_0 counts the 8-connected components of the mask (squares sharing
    a corner touch), beta_1 its holes: the 4-connected background regions
    that do not reach the image border.

    Args:
        mask (np.ndarray): (H, W) bool mask.

    Returns:
        tuple[int, int]: (beta_0, beta_1).
    """
    mask = np.asarray(mask, dtype=bool)
    _, components = ndimage.label(mask, structure=np.ones((3, 3)))
    background, regions = ndimage.label(~mask)
    border = np.concatenate(
        [background[0], background[-1], background[:, 0], background[:, -1]]
    )
    outside = np.unique(border[border > 0])
    return components, regions - len(outside)


def reference_diagrams(
    mask: np.ndarray,
    dims: Sequence[int] = (0, 1),
    essential_death: str = 'zero',
) -> Dict[int, np.ndarray]:
    """Reference diagrams of a binary pseudo-label mask (MSSSeg §3.4).

    The diagrams of the mask of one class read as a {0, 1} map: every pair
    is (1, 0), one per 8-connected component (H0) and per hole (H1); an
    empty mask has none. With ``essential_death='min'`` the essential
    component of a mask covering the whole image dies at 1 and is dropped.
    Equal to the values of :func:`superlevel_diagrams` of the mask, but
    counted with :func:`mask_betti_numbers` instead of gudhi (which halves
    the loss's gudhi time; the reference pixels are never needed).

    Args:
        mask (np.ndarray): (H, W) bool mask of the class.
        dims (Sequence[int]): Homology dimensions.
        essential_death (str): As in :func:`superlevel_diagrams`.

    Returns:
        dict[int, np.ndarray]: (n, 2) (birth, death) values of each
        dimension.
    """
    essential_death_pixels(mask, 0, essential_death)  # checks the choice
    betti = list(mask_betti_numbers(mask))
    if essential_death == 'min' and np.all(mask):
        betti[0] -= 1
    return {dim: np.tile([[1.0, 0.0]], (betti[dim], 1)) for dim in dims}


def diagonal_costs(
    values: np.ndarray, order: float = 2.0, internal_p: float = 2.0
) -> np.ndarray:
    """Cost of matching each point to the diagonal.

    ``||x - pi(x)||_p ** q`` with pi(x) the orthogonal projection
    ``((b + d) / 2, (b + d) / 2)``: ``(|b - d| * 2^(1/p - 1)) ** q``.

    Args:
        values (np.ndarray): (n, 2) diagram points.
        order (float): Wasserstein order q.
        internal_p (float): Ground Minkowski norm p (``inf`` allowed).

    Returns:
        np.ndarray: (n,) costs.
    """
    gap = np.abs(values[:, 0] - values[:, 1])
    return (gap * 2.0 ** (1.0 / internal_p - 1.0)) ** order


def point_costs(
    predicted: np.ndarray,
    reference: np.ndarray,
    order: float = 2.0,
    internal_p: float = 2.0,
) -> np.ndarray:
    """Cost ``||x_i - y_j||_p ** q`` of every (predicted, reference) pair.

    Returns:
        np.ndarray: (n, m) costs.
    """
    offsets = predicted[:, None, :] - reference[None, :, :]
    return np.linalg.norm(offsets, ord=internal_p, axis=-1) ** order


def hungarian_matching(
    predicted: np.ndarray,
    reference: np.ndarray,
    order: float = 2.0,
    internal_p: float = 2.0,
) -> np.ndarray:
    """Optimal partial matching of two diagrams (Wasserstein-q).

    The assignment problem on the diagrams augmented with each other's
    diagonal projections: n predicted rows plus m diagonal rows against m
    reference columns plus n diagonal columns, solved exactly by scipy's
    ``linear_sum_assignment``.

    Args:
        predicted (np.ndarray): (n, 2) predicted diagram.
        reference (np.ndarray): (m, 2) reference diagram.
        order (float): Wasserstein order q.
        internal_p (float): Ground Minkowski norm p.

    Returns:
        np.ndarray: (n,) index of each predicted point's reference
        partner, -1 for the diagonal.
    """
    n, m = len(predicted), len(reference)
    costs = np.zeros((n + m, m + n))
    costs[:n, :m] = point_costs(predicted, reference, order, internal_p)
    costs[:n, m:] = diagonal_costs(predicted, order, internal_p)[:, None]
    costs[n:, :m] = diagonal_costs(reference, order, internal_p)[None, :]
    rows, cols = linear_sum_assignment(costs)
    partners = np.full(n, -1, dtype=np.int64)
    real = (rows < n) & (cols < m)
    partners[rows[real]] = cols[real]
    return partners


def matching_to_identical_points(
    predicted: np.ndarray,
    reference: np.ndarray,
    order: float = 2.0,
    internal_p: float = 2.0,
) -> np.ndarray:
    """Exact optimal matching when all m reference points coincide.

    The case of a binary mask, whose pairs are all (1, 0). With r the
    common point, a matching of the predicted set S costs
    ``sum_all delta(x) + m delta(r) + sum_{x in S} g(x)``, with the gain
    ``g(x) = c(x, r) - delta(x) - delta(r)``; it is smallest for S = the
    (at most m) points of most negative gain. Same cost as
    :func:`hungarian_matching` in O(n log n).

    Returns:
        np.ndarray: (n,) reference partner or -1, as
        :func:`hungarian_matching`.
    """
    common = reference[:1]
    gains = (
        point_costs(predicted, common, order, internal_p)[:, 0]
        - diagonal_costs(predicted, order, internal_p)
        - diagonal_costs(common, order, internal_p)[0]
    )
    best = np.argsort(gains, kind='stable')[: len(reference)]
    best = best[gains[best] < 0]
    partners = np.full(len(predicted), -1, dtype=np.int64)
    partners[best] = np.arange(len(best))
    return partners


def match_diagrams(
    predicted: np.ndarray,
    reference: np.ndarray,
    order: float = 2.0,
    internal_p: float = 2.0,
) -> np.ndarray:
    """Optimal bipartite matching of two diagrams (MSSSeg §3.4).

    The paper matches by the Wasserstein distance without its order or
    ground norm; the defaults are q = 2 and the Euclidean norm. Solved
    exactly: in closed form when the reference points coincide
    (:func:`matching_to_identical_points`, every binary mask), by the
    Hungarian algorithm otherwise (:func:`hungarian_matching`). gudhi's own
    Wasserstein matching needs POT, its hera matching is approximate and
    documented as buggy, so neither is used.

    Args:
        predicted (np.ndarray): (n, 2) predicted diagram.
        reference (np.ndarray): (m, 2) reference diagram.
        order (float): Wasserstein order q. Defaults to 2.
        internal_p (float): Ground Minkowski norm p. Defaults to 2.

    Returns:
        np.ndarray: (n,) index of each predicted point's reference
        partner, -1 where it goes to the diagonal (structural noise).
    """
    if len(predicted) == 0 or len(reference) == 0:
        return np.full(len(predicted), -1, dtype=np.int64)
    if np.all(reference == reference[:1]):
        return matching_to_identical_points(
            predicted, reference, order, internal_p
        )
    return hungarian_matching(predicted, reference, order, internal_p)


def matching_cost(
    predicted: np.ndarray,
    reference: np.ndarray,
    partners: np.ndarray,
    order: float = 2.0,
    internal_p: float = 2.0,
) -> float:
    """Total cost of a matching, ``W_q(predicted, reference) ** q`` when
    it is optimal.

    Args:
        predicted (np.ndarray): (n, 2) predicted diagram.
        reference (np.ndarray): (m, 2) reference diagram.
        partners (np.ndarray): (n,) reference partner or -1.
        order (float): Wasserstein order q.
        internal_p (float): Ground Minkowski norm p.

    Returns:
        float: Matched costs plus the diagonal costs of the unmatched
        points of both diagrams.
    """
    matched = partners >= 0
    pairs = point_costs(
        predicted[matched], reference[partners[matched]], order, internal_p
    )
    unmatched_reference = np.ones(len(reference), dtype=bool)
    unmatched_reference[partners[matched]] = False
    return float(
        np.trace(pairs)
        + diagonal_costs(predicted[~matched], order, internal_p).sum()
        + diagonal_costs(
            reference[unmatched_reference], order, internal_p
        ).sum()
    )


def critical_pixels(
    prob: np.ndarray,
    mask: np.ndarray,
    dims: Sequence[int] = (0, 1),
    essential_death: str = 'zero',
    order: float = 2.0,
    internal_p: float = 2.0,
) -> CriticalPixels:
    """Critical pixels of one map's pairs, split into true signals and
    structural noise by the optimal matching to the mask's diagram.

    Each dimension is matched on its own (H0 to H0, H1 to H1).

    Args:
        prob (np.ndarray): (H, W) predicted probabilities of one class.
        mask (np.ndarray): (H, W) bool pseudo-label mask of that class.
        dims (Sequence[int]): Homology dimensions.
        essential_death (str): See :func:`superlevel_diagrams`.
        order (float): Wasserstein order q of the matching.
        internal_p (float): Ground norm p of the matching.

    Returns:
        CriticalPixels: Birth/death pixels of the matched and the
        unmatched predicted pairs.
    """
    predicted = superlevel_diagrams(prob, dims, essential_death)
    reference = reference_diagrams(mask, dims, essential_death)
    matched, unmatched = [], []
    for dim in dims:
        partners = match_diagrams(
            predicted[dim].values, reference[dim], order, internal_p
        )
        matched.append(predicted[dim].pixels[partners >= 0])
        unmatched.append(predicted[dim].pixels[partners < 0])
    return CriticalPixels(
        np.concatenate(matched).reshape(-1, 2),
        np.concatenate(unmatched).reshape(-1, 2),
    )
