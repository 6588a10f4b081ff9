# Copyright (c) mmuss contributors. All rights reserved.
"""Run per-file conversion jobs in parallel, skipping finished outputs."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, List, Sequence

from mmengine.utils import ProgressBar


class ConversionError(RuntimeError):
    """A conversion job failed; the message names the input at fault."""


def _call(job: Callable, item) -> object:
    try:
        return job(item)
    except ConversionError:
        raise
    except Exception as error:
        raise ConversionError(
            f'{item}: {type(error).__name__}: {error}'
        ) from error


def run_jobs(
    job: Callable,
    items: Sequence,
    nproc: int = 1,
    description: str = 'converting',
) -> List:
    """Apply ``job`` to every item, in ``nproc`` processes.

    Jobs write their outputs atomically and skip outputs that exist, so an
    interrupted run resumes where it stopped. The first failure stops the
    run with a :class:`ConversionError` naming the item.

    Args:
        job (Callable): Picklable function of one item.
        items (Sequence): The work items (e.g. input file paths).
        nproc (int): Number of processes; 1 runs in this process.
        description (str): Shown before the progress bar.

    Returns:
        list: The results, in the order of ``items``.
    """
    print(f'{description}: {len(items)} items with {nproc} process(es)')
    progress = ProgressBar(len(items))
    results = []
    if nproc <= 1:
        for item in items:
            results.append(_call(job, item))
            progress.update()
        return results
    context = multiprocessing.get_context(
        'fork' if os.name == 'posix' else 'spawn'
    )
    with ProcessPoolExecutor(nproc, mp_context=context) as pool:
        futures = [pool.submit(_call, job, item) for item in items]
        for future in futures:
            results.append(future.result())
            progress.update()
    return results


def chunked(items: Iterable, size: int) -> List[list]:
    """Split ``items`` into lists of at most ``size`` elements."""
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]
