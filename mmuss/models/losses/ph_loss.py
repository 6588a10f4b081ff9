# Copyright (c) mmuss contributors. All rights reserved.
"""MSSSeg's persistent-homology loss (PHLoss).

`MSSSeg <https://arxiv.org/abs/2512.23997>`_ (Li et al., §3.4) supervises
the structure of the Seg Head's probability map: the superlevel-set
persistence diagram of each class map is matched to the diagram of the
pseudo-label mask of that class; matched pairs (true signals) are pushed to
maximal prominence, birth 1 and death 0 (Eq. 9), unmatched pairs
(structural noise) onto the diagonal (Eq. 10). Birth and death are the
predicted probabilities at the critical pixels, so only those pixels get
gradients. The diagrams and the matching are computed by
:mod:`mmuss.models.utils.persistence` (gudhi, on the CPU, detached), the
loss gathers the probabilities at the pixels they name.
"""

import multiprocessing
from concurrent.futures import (
    Executor,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.persistence import (
    ESSENTIAL_DEATHS,
    NO_PIXEL,
    CriticalPixels,
    critical_pixels,
)

PARALLEL_MODES = ('thread', 'process')
REDUCTIONS = ('mean', 'sum')


def matched_pair_loss(birth: Tensor, death: Tensor) -> Tensor:
    """MSSSeg Eq. 9: ``(1 - b)^2 + d^2`` for the true signals.

    Drives each matched structure to maximal prominence: birth at
    probability 1 (confident foreground), death at 0 (background level).

    Args:
        birth (Tensor): Predicted birth probabilities.
        death (Tensor): Predicted death probabilities.

    Returns:
        Tensor: Loss of each pair.
    """
    return (1 - birth) ** 2 + death**2


def unmatched_pair_loss(birth: Tensor, death: Tensor) -> Tensor:
    """MSSSeg Eq. 10: ``(b - d)^2`` for the structural noise.

    Collapses each unmatched (spurious) feature onto the diagonal b = d,
    where it never exists.

    Args:
        birth (Tensor): Predicted birth probabilities.
        death (Tensor): Predicted death probabilities.

    Returns:
        Tensor: Loss of each pair.
    """
    return (birth - death) ** 2


def gather_pairs(
    flat_probs: Tensor, pixels: np.ndarray, offsets: np.ndarray
) -> Tuple[Tensor, Tensor]:
    """Births and deaths of pairs, gathered from the probabilities.

    Args:
        flat_probs (Tensor): All evaluated maps flattened, followed by one
            trailing 0 (the death of :data:`NO_PIXEL`).
        pixels (np.ndarray): (n, 2) birth/death pixels within their map.
        offsets (np.ndarray): (n,) start of each pair's map in
            ``flat_probs``.

    Returns:
        tuple[Tensor, Tensor]: (n,) births and deaths, differentiable.
    """
    index = pixels + offsets[:, None]
    index[pixels == NO_PIXEL] = flat_probs.numel() - 1
    index = torch.from_numpy(index).to(flat_probs.device)
    values = flat_probs[index.reshape(-1)].reshape(-1, 2)
    return values[:, 0], values[:, 1]


def _critical_pixels_task(args) -> CriticalPixels:
    prob, mask, options = args
    return critical_pixels(prob, mask, **options)


_EXECUTORS: Dict[Tuple[str, int], Executor] = {}


def _executor(parallel: str, num_workers: int) -> Executor:
    key = (parallel, num_workers)
    if key not in _EXECUTORS:
        if parallel == 'thread':
            _EXECUTORS[key] = ThreadPoolExecutor(num_workers)
        else:
            context = multiprocessing.get_context('forkserver')
            context.set_forkserver_preload([__name__])
            _EXECUTORS[key] = ProcessPoolExecutor(
                num_workers, mp_context=context
            )
    return _EXECUTORS[key]


def shutdown_executors() -> None:
    """Stop the worker pools PHLoss started."""
    for pool in _EXECUTORS.values():
        pool.shutdown(wait=False, cancel_futures=True)
    _EXECUTORS.clear()


def map_critical_pixels(
    tasks: List[tuple], num_workers: int, parallel: str
) -> List[CriticalPixels]:
    """:func:`critical_pixels` of every (map, mask, options) task, in this
    process (``num_workers=0`` or a single task) or in a worker pool."""
    if num_workers == 0 or len(tasks) < 2:
        return [_critical_pixels_task(task) for task in tasks]
    chunk = max(1, len(tasks) // (4 * num_workers))
    pool = _executor(parallel, num_workers)
    return list(pool.map(_critical_pixels_task, tasks, chunksize=chunk))


@MODELS.register_module()
class PHLoss(nn.Module):
    """MSSSeg persistent-homology loss (§3.4, Eqs. 9-10).

    ``L_PH = sum_matched [(1 - b)^2 + d^2] + sum_unmatched (b - d)^2`` per
    class map, over H0 and/or H1, the matching being the optimal
    Wasserstein matching of the map's superlevel diagram to the diagram of
    the class's pseudo-label mask (see
    :func:`mmuss.models.utils.persistence.critical_pixels`).

    Choices where the paper is silent (all configurable):

    * Classes (``channels``): ``'all'`` K maps, ``'present'`` the classes
      present in the image's reference, an int k for the k largest present
      classes, or a list of class indices. An absent class has an empty
      reference diagram, so all its pairs are noise (Eq. 10).
    * Resolution: ``size`` or ``downsample``; the probabilities are resized
      bilinearly, the reference by nearest neighbour. Default: the
      resolution of ``probs``.
    * Pixels labelled ``ignore_index`` are background (0) in both the
      reference masks and the predicted maps (no gradient there), so a
      region the pseudo label leaves out creates no structure.
    * The essential H0 class dies at 0 (``essential_death='zero'``) or at
      the map's minimum (``'min'``); matching order q = 2 with the
      Euclidean ground norm (``order``, ``internal_p``).
    * Reduction: the per-map sum of Eqs. 9-10, then the mean (default) or
      the sum over the evaluated (image, class) maps; times
      ``loss_weight``.

    gudhi runs on the CPU; ``num_workers`` > 0 spreads the maps of a batch
    over a pool of threads (``parallel='thread'``, default: gudhi releases
    the GIL while it computes persistence, and nothing is pickled) or of
    worker processes (``'process'``, forkserver; each worker imports mmuss
    once). ``tools/analysis_tools/benchmark_phloss.py`` measured threads
    faster on 2 cores.

    Args:
        channels (str | int | Sequence[int]): Defaults to ``'present'``.
        size (int | tuple[int, int], optional): (h, w) the loss runs at.
        downsample (float, optional): Run at the input size divided by
            this factor (>= 1). Exclusive with ``size``.
        homology_dims (Sequence[int]): Subset of (0, 1). Defaults to both.
        essential_death (str): ``'zero'`` or ``'min'``.
        order (float): Wasserstein order of the matching. Defaults to 2.
        internal_p (float): Ground norm of the matching. Defaults to 2.
        reduction (str): ``'mean'`` or ``'sum'``.
        loss_weight (float): Defaults to 1.
        num_workers (int): Worker count; 0 computes in this process.
        parallel (str): ``'thread'`` (default) or ``'process'``.
        loss_name (str): Defaults to ``'loss_ph'``.
    """

    def __init__(
        self,
        channels: Union[str, int, Sequence[int]] = 'present',
        size: Optional[Union[int, Tuple[int, int]]] = None,
        downsample: Optional[float] = None,
        homology_dims: Sequence[int] = (0, 1),
        essential_death: str = 'zero',
        order: float = 2.0,
        internal_p: float = 2.0,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
        num_workers: int = 0,
        parallel: str = 'thread',
        loss_name: str = 'loss_ph',
    ) -> None:
        super().__init__()
        self.channels = _check_channels(channels)
        self.size = _check_size(size, downsample)
        self.downsample = _check_downsample(downsample)
        self.homology_dims = _check_dims(homology_dims)
        _check_choice('essential_death', essential_death, ESSENTIAL_DEATHS)
        _check_choice('reduction', reduction, REDUCTIONS)
        _check_choice('parallel', parallel, PARALLEL_MODES)
        if order < 1 or internal_p < 1:
            raise ValueError(
                f'order and internal_p must be >= 1, got order={order}, '
                f'internal_p={internal_p}'
            )
        if int(num_workers) != num_workers or num_workers < 0:
            raise ValueError(
                f'num_workers must be an int >= 0, got {num_workers!r}'
            )
        self.essential_death = essential_death
        self.order = float(order)
        self.internal_p = float(internal_p)
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.num_workers = int(num_workers)
        self.parallel = parallel
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def target_size(self, height: int, width: int) -> Tuple[int, int]:
        """(h, w) the loss runs at for ``probs`` of (height, width)."""
        if self.size is not None:
            return self.size
        if self.downsample is not None:
            return (
                max(1, round(height / self.downsample)),
                max(1, round(width / self.downsample)),
            )
        return height, width

    def resize(
        self, probs: Tensor, reference: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """Both inputs at :meth:`target_size`."""
        size = self.target_size(*probs.shape[-2:])
        if tuple(probs.shape[-2:]) != size:
            probs = F.interpolate(
                probs, size=size, mode='bilinear', align_corners=False
            )
        if tuple(reference.shape[-2:]) != size:
            reference = F.interpolate(
                reference[:, None].float(), size=size, mode='nearest'
            )[:, 0].long()
        return probs, reference

    def selected_channels(
        self, labels: Tensor, num_classes: int, ignore_index: int
    ) -> List[int]:
        """Classes evaluated for one image's (h, w) reference ``labels``."""
        if self.channels == 'all':
            return list(range(num_classes))
        if not isinstance(self.channels, (str, int)):
            for k in self.channels:
                if k >= num_classes:
                    raise ValueError(
                        f'PHLoss channels: class {k} does not exist, probs '
                        f'have {num_classes} channels'
                    )
            return list(self.channels)
        counts = torch.bincount(
            labels[labels != ignore_index].reshape(-1),
            minlength=num_classes,
        )
        present = torch.nonzero(counts).reshape(-1)
        if self.channels != 'present':  # top-k by pixel count
            order = torch.argsort(
                counts[present], descending=True, stable=True
            )
            present = present[order[: self.channels]]
        return sorted(present.tolist())

    def forward(
        self, probs: Tensor, reference: Tensor, ignore_index: int = 255
    ) -> Tensor:
        """Compute the loss.

        Args:
            probs (Tensor): (B, K, H, W) softmax probabilities.
            reference (Tensor): (B, H', W') integer pseudo labels in
                [0, K), ``ignore_index`` where there is none.
            ignore_index (int): Defaults to 255.

        Returns:
            Tensor: Scalar loss (0 when no map is evaluated).
        """
        _check_inputs(probs, reference, ignore_index)
        probs, reference = self.resize(probs, reference)
        valid = reference != ignore_index
        probs = probs * valid[:, None].to(probs.dtype)
        batch, num_classes = probs.shape[:2]
        maps = [
            (b, k)
            for b in range(batch)
            for k in self.selected_channels(
                reference[b], num_classes, ignore_index
            )
        ]
        if not maps:
            return probs.sum() * 0.0
        results = map_critical_pixels(
            self._tasks(probs, reference, maps),
            self.num_workers,
            self.parallel,
        )
        total = self._sum_over_maps(probs, maps, results)
        if self.reduction == 'mean':
            total = total / len(maps)
        return self.loss_weight * total

    def _tasks(
        self, probs: Tensor, reference: Tensor, maps: List[Tuple[int, int]]
    ) -> List[tuple]:
        options = dict(
            dims=self.homology_dims,
            essential_death=self.essential_death,
            order=self.order,
            internal_p=self.internal_p,
        )
        detached = probs.detach().to('cpu', torch.float64).numpy()
        labels = reference.cpu().numpy()
        return [(detached[b, k], labels[b] == k, options) for b, k in maps]

    def _sum_over_maps(
        self,
        probs: Tensor,
        maps: List[Tuple[int, int]],
        results: List[CriticalPixels],
    ) -> Tensor:
        """Sum of Eq. 9 over the matched and Eq. 10 over the unmatched
        pairs of every evaluated map."""
        num_classes, pixels = probs.shape[1], probs.shape[2] * probs.shape[3]
        flat = torch.cat([probs.reshape(-1), probs.new_zeros(1)])
        starts = [(b * num_classes + k) * pixels for b, k in maps]
        total = flat.new_zeros(())
        for field, equation in (
            ('matched', matched_pair_loss),
            ('unmatched', unmatched_pair_loss),
        ):
            pairs = [getattr(result, field) for result in results]
            offsets = np.repeat(starts, [len(p) for p in pairs])
            birth, death = gather_pairs(
                flat, np.concatenate(pairs).reshape(-1, 2), offsets
            )
            total = total + equation(birth, death).sum()
        return total


def _check_choice(key: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(
            f'PHLoss {key} must be one of {tuple(allowed)}, got {value!r}'
        )


def _check_channels(channels):
    if isinstance(channels, str):
        _check_choice('channels', channels, ('all', 'present'))
        return channels
    if isinstance(channels, int):
        if channels < 1:
            raise ValueError(
                f'PHLoss channels: top-k needs k >= 1, got {channels}'
            )
        return channels
    channels = [int(k) for k in channels]
    if not channels or min(channels) < 0:
        raise ValueError(
            f'PHLoss channels must be "all", "present", an int k or a '
            f'non-empty list of class indices >= 0, got {channels!r}'
        )
    return channels


def _check_size(size, downsample) -> Optional[Tuple[int, int]]:
    if size is None:
        return None
    if downsample is not None:
        raise ValueError(
            f'PHLoss takes size or downsample, not both (size={size!r}, '
            f'downsample={downsample!r})'
        )
    size = (size, size) if isinstance(size, int) else tuple(size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'PHLoss size must be (h, w) >= 1, got {size!r}')
    return size


def _check_downsample(downsample) -> Optional[float]:
    if downsample is not None and downsample < 1:
        raise ValueError(
            f'PHLoss downsample must be a factor >= 1, got {downsample!r}'
        )
    return downsample


def _check_dims(dims) -> Tuple[int, ...]:
    dims = tuple(sorted(set(int(d) for d in dims)))
    if not dims or not set(dims) <= {0, 1}:
        raise ValueError(
            f'PHLoss homology_dims must be a non-empty subset of (0, 1), '
            f'got {dims!r}'
        )
    return dims


def _check_inputs(probs: Tensor, reference: Tensor, ignore_index: int):
    if probs.ndim != 4:
        raise ValueError(
            f'PHLoss probs must be (B, K, H, W), got {tuple(probs.shape)}'
        )
    if reference.ndim != 3 or reference.shape[0] != probs.shape[0]:
        raise ValueError(
            f'PHLoss reference must be (B, H, W) with B = '
            f'{probs.shape[0]}, got {tuple(reference.shape)}'
        )
    if reference.is_floating_point() or reference.dtype == torch.bool:
        raise ValueError(
            f'PHLoss reference must hold integer labels, got {reference.dtype}'
        )
    if not torch.isfinite(probs).all():
        bad = probs[~torch.isfinite(probs)][0].item()
        raise ValueError(f'PHLoss probs contain a non-finite value ({bad})')
    low, high = probs.min().item(), probs.max().item()
    if low < -1e-4 or high > 1 + 1e-4:
        raise ValueError(
            f'PHLoss probs must be probabilities in [0, 1], got values in '
            f'[{low:.4g}, {high:.4g}]'
        )
    labels = reference[reference != ignore_index]
    wrong = labels[(labels < 0) | (labels >= probs.shape[1])]
    if wrong.numel():
        raise ValueError(
            f'PHLoss reference label {wrong[0].item()} is outside [0, '
            f'{probs.shape[1]}) and is not ignore_index={ignore_index}'
        )
