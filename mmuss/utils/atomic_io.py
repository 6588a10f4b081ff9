# Copyright (c) mmuss contributors. All rights reserved.
"""Atomic file writing for offline tools.

Every file an offline tool produces (converted labels, crops, KNN lists,
pseudo labels, feature caches) is written to a temporary file in the target
folder and renamed into place. A file that exists is therefore complete, an
interrupted run leaves no truncated output, and a rerun can skip what
exists.
"""

import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Iterator

import numpy as np
from PIL import Image


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when
    the block succeeds, delete it when it fails.

    Args:
        path (str): Final file path. Its folder is created.

    Yields:
        str: The temporary path to write to (same extension as ``path``).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = ''.join(osp.splitext(path)[1:])
    handle, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix=f'.tmp{suffix}', dir=folder
    )
    os.close(handle)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def save_image_atomic(array: np.ndarray, path: str, **save_kwargs) -> None:
    """Save an image or label map (uint8 array) atomically with PIL.

    Args:
        array (np.ndarray): (H, W) or (H, W, 3) array, RGB for colour.
        path (str): Target path; the format follows its extension.
        **save_kwargs: Passed to ``PIL.Image.save`` (e.g. ``quality``).
    """
    image_format = Image.registered_extensions().get(
        osp.splitext(path)[1].lower()
    )
    with atomic_path(path) as tmp_path:
        Image.fromarray(array).save(
            tmp_path, format=image_format, **save_kwargs
        )


def save_npz_atomic(path: str, **arrays: np.ndarray) -> None:
    """``np.savez`` to ``path`` atomically."""
    with atomic_path(path) as tmp_path:
        with open(tmp_path, 'wb') as file:
            np.savez(file, **arrays)


def save_npy_atomic(path: str, array: np.ndarray) -> None:
    """``np.save`` to ``path`` atomically."""
    with atomic_path(path) as tmp_path:
        with open(tmp_path, 'wb') as file:
            np.save(file, array)
