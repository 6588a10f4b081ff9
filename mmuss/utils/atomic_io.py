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
from pathlib import Path
from typing import Iterator, Union

import numpy as np
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio import io as mmengine_io
from PIL import Image


def _process_umask() -> int:
    """The process umask: from ``/proc/self/status`` where Linux gives it
    (thread-safe), else by setting and restoring it."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def default_file_mode(directory: bool = False) -> int:
    """The mode ``open()`` (0o666) or ``os.makedirs`` (0o777) would give a
    new file or folder under the process umask.

    ``tempfile.mkstemp``/``mkdtemp`` create 0o600/0o700 entries; files
    renamed into place from them would otherwise be unreadable to the other
    users of a shared data folder.
    """
    return (0o777 if directory else 0o666) & ~_process_umask()


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
        os.chmod(tmp_path, default_file_mode())
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


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put``/``put_text``.

    Registered as mmengine's ``'local'`` backend when mmuss is imported, so
    the runner's checkpoints (``iter_*.pth``, ``epoch_*.pth``) and every
    other file written through ``mmengine.fileio`` appear whole or not at
    all: a run killed while saving leaves the previous checkpoint intact and
    no truncated file.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically."""
        with atomic_path(str(filepath)) as tmp_path:
            with open(tmp_path, 'wb') as file:
                file.write(obj)

    def put_text(
        self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8'
    ) -> None:
        """Write text to ``filepath`` atomically."""
        with atomic_path(str(filepath)) as tmp_path:
            with open(tmp_path, 'w', encoding=encoding) as file:
                file.write(obj)


def register_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's ``'local'`` backend.

    Idempotent; cached plain ``LocalBackend`` instances are dropped so that
    every later ``get_file_backend`` call returns the atomic one.
    """
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    for key, backend in list(mmengine_io.backend_instances.items()):
        if type(backend) is LocalBackend:
            del mmengine_io.backend_instances[key]
