# Copyright (c) mmuss contributors. All rights reserved.
"""Fully connected CRF refinement (Krähenbühl and Koltun, 2011).

The post-processing of STEGO, PriMaPs and their successors, with their
constants: 10 mean-field iterations, a Gaussian kernel (sxy 1, compat 3) and
a bilateral kernel (sxy 67, srgb 3, compat 4) on the un-normalised image,
applied to the softmax of the predicted scores at evaluation-crop
resolution. Backed by the maintained ``pydensecrf2`` package.

Images are refined in parallel worker processes. Upstream STEGO ran them in a
``multiprocessing.Pool`` forked from a process holding CUDA and data-loader
threads, which deadlocks (STEGO issue #16); here workers come from a
``forkserver`` (a clean, single-threaded process), results are awaited with
a timeout, and a crashed worker raises an error instead of hanging.
"""

import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Dict, List, Sequence

import numpy as np

DEFAULT_CRF_PARAMS = dict(
    num_iters=10,
    gaussian_sxy=1,
    gaussian_compat=3,
    bilateral_sxy=67,
    bilateral_srgb=3,
    bilateral_compat=4,
)


def dense_crf(
    image: np.ndarray,
    probs: np.ndarray,
    num_iters: int = 10,
    gaussian_sxy: float = 1,
    gaussian_compat: float = 3,
    bilateral_sxy: float = 67,
    bilateral_srgb: float = 3,
    bilateral_compat: float = 4,
) -> np.ndarray:
    """Refine per-pixel class probabilities with a dense CRF.

    Args:
        image (np.ndarray): (H, W, 3) uint8 un-normalised image. The
            bilateral kernel is isotropic over the colour channels, so RGB
            and BGR give the same result.
        probs (np.ndarray): (C, H, W) probabilities (softmax of the scores).
        num_iters (int): Mean-field iterations. Defaults to 10.
        gaussian_sxy, gaussian_compat: Smoothness kernel. Defaults 1 and 3.
        bilateral_sxy, bilateral_srgb, bilateral_compat: Appearance kernel.
            Defaults 67, 3 and 4.

    Returns:
        np.ndarray: (C, H, W) float32 refined probabilities.
    """
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax

    num_classes, height, width = probs.shape
    if image.shape != (height, width, 3) or image.dtype != np.uint8:
        raise ValueError(
            f'image must be ({height}, {width}, 3) uint8 like '
            f'the probabilities, got {image.dtype} '
            f'{image.shape}'
        )
    if not np.isfinite(probs).all():
        raise ValueError('CRF input probabilities contain NaN or inf')
    crf = dcrf.DenseCRF2D(width, height, num_classes)
    crf.setUnaryEnergy(
        np.ascontiguousarray(unary_from_softmax(probs.astype(np.float32)))
    )
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(
        sxy=bilateral_sxy,
        srgb=bilateral_srgb,
        rgbim=np.ascontiguousarray(image),
        compat=bilateral_compat,
    )
    refined = crf.inference(num_iters)
    return np.asarray(refined, dtype=np.float32).reshape(
        num_classes, height, width
    )


def _crf_task(args) -> np.ndarray:
    image, probs, params = args
    return dense_crf(image, probs, **params)


_POOLS: Dict[int, ProcessPoolExecutor] = {}


def _shutdown_pools() -> None:
    for pool in _POOLS.values():
        pool.shutdown(wait=False, cancel_futures=True)
    _POOLS.clear()


atexit.register(_shutdown_pools)


def default_num_workers() -> int:
    """CPU cores of this process, shared among the local ranks."""
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity')
        else os.cpu_count() or 1
    )
    local_ranks = int(os.environ.get('LOCAL_WORLD_SIZE', 1))
    return max(1, cores // max(1, local_ranks))


def _pool(num_workers: int) -> ProcessPoolExecutor:
    if num_workers not in _POOLS:
        context = multiprocessing.get_context('forkserver')
        context.set_forkserver_preload([__name__])
        _POOLS[num_workers] = ProcessPoolExecutor(
            num_workers, mp_context=context
        )
    return _POOLS[num_workers]


class DenseCRF:
    """Batch dense-CRF refinement, parallel over images.

    Args:
        num_workers (int, optional): Worker processes; 0 refines in this
            process; None uses the cores available to this rank.
        timeout (float): Seconds to wait for one image before failing.
            Defaults to 600.
        **params: CRF constants, see :func:`dense_crf` and
            ``DEFAULT_CRF_PARAMS``.
    """

    def __init__(
        self, num_workers: int | None = None, timeout: float = 600.0, **params
    ) -> None:
        unknown = set(params) - set(DEFAULT_CRF_PARAMS)
        if unknown:
            raise ValueError(
                f'unknown CRF parameters {sorted(unknown)}; '
                f'expected {sorted(DEFAULT_CRF_PARAMS)}'
            )
        self.params = {**DEFAULT_CRF_PARAMS, **params}
        self.num_workers = (
            default_num_workers() if num_workers is None else num_workers
        )
        self.timeout = timeout

    def __call__(
        self, images: Sequence[np.ndarray], probs: Sequence[np.ndarray]
    ) -> List[np.ndarray]:
        """Refine a batch.

        Args:
            images (Sequence[np.ndarray]): (H, W, 3) uint8 images.
            probs (Sequence[np.ndarray]): (C, H, W) probabilities.

        Returns:
            list[np.ndarray]: Refined (C, H, W) probabilities.
        """
        tasks = [
            (image, prob, self.params) for image, prob in zip(images, probs)
        ]
        if self.num_workers == 0 or len(tasks) == 1:
            return [_crf_task(task) for task in tasks]
        pool = _pool(self.num_workers)
        try:
            futures = [pool.submit(_crf_task, task) for task in tasks]
            return [future.result(timeout=self.timeout) for future in futures]
        except FutureTimeout as error:
            _POOLS.pop(self.num_workers, None)
            pool.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError(
                f'dense CRF did not finish an image within {self.timeout} s'
            ) from error
        except BrokenProcessPool as error:
            _POOLS.pop(self.num_workers, None)
            raise RuntimeError(
                'a dense CRF worker process died; see its error output above'
            ) from error
