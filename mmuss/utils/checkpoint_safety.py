# Copyright (c) mmuss contributors. All rights reserved.
"""Safe (``weights_only=True``) checkpoint loading for MMEngine runners.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine
0.10.7's runner checkpoints then fail to load because they hold a few
non-tensor objects (the message hub's ``HistoryBuffer``, numpy arrays and
scalars in the logged statistics, and a ``getattr`` reference). mmuss
keeps ``weights_only=True`` and allowlists exactly those types; it also
routes mmengine's local and HTTP(S)
checkpoint schemes through ``torch.load(..., weights_only=True)`` so no
checkpoint, local or downloaded, is ever unpickled without that safety.
"""

import os
import os.path as osp
from typing import Any, List
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

_REGISTERED = False


def _numpy_globals() -> List[Any]:
    """The numpy reconstructors and dtypes pickled with numpy arrays and
    scalars (names differ between numpy 1.x and 2.x)."""
    if hasattr(np, '_core'):
        from numpy._core import multiarray
    else:  # numpy < 2
        from numpy.core import multiarray
    types = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    for name in (
        'float16',
        'float32',
        'float64',
        'int8',
        'int16',
        'int32',
        'int64',
        'uint8',
        'uint16',
        'uint32',
        'uint64',
        'bool_',
    ):
        dtype_class = type(np.dtype(name))
        if dtype_class is not np.dtype:
            types.append(dtype_class)
    return types


def safe_checkpoint_globals() -> List[Any]:
    """Return the non-tensor globals found in MMEngine runner checkpoints.

    - ``HistoryBuffer``: the message hub's logged statistics;
    - numpy's array/scalar reconstructors, ``ndarray``, ``dtype`` and the
      numeric dtype classes: the buffers' contents;
    - ``getattr``: ``HistoryBuffer`` pickles its statistics functions as
      ``getattr(HistoryBuffer, 'min')``. The weights-only unpickler still
      refuses to *call* anything outside this list, so ``getattr`` only
      reads attributes of objects that are already allowed.
    """
    return [HistoryBuffer, getattr] + _numpy_globals()


def load_checkpoint_file(
    filename: str, map_location: str | None = 'cpu'
) -> Any:
    """Load a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str, optional): Passed to ``torch.load``.

    Returns:
        The unpickled checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        RuntimeError: If it cannot be read, naming the file.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True
        )
    except Exception as error:  # corrupt, truncated or unsafe content
        raise RuntimeError(
            f'cannot load checkpoint {filename} with weights_only=True: '
            f'{error}'
        ) from error


def load_checkpoint_url(
    url: str, map_location: str | None = 'cpu', model_dir: str | None = None
) -> Any:
    """Download a checkpoint into the torch hub cache once and load it with
    ``weights_only=True``.

    Args:
        url (str): HTTP(S) address of the checkpoint.
        map_location (str, optional): Passed to ``torch.load``.
        model_dir (str, optional): Download folder. Defaults to
            ``<torch hub dir>/checkpoints``.

    Returns:
        The unpickled checkpoint.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, osp.basename(urlparse(url).path))
    if not osp.exists(cached_file):
        # download_url_to_file writes to a temporary file then renames it,
        # so an interrupted download never leaves a truncated checkpoint.
        torch.hub.download_url_to_file(url, cached_file, progress=True)
    return load_checkpoint_file(cached_file, map_location)


def _load_local(filename: str, map_location=None) -> Any:
    return load_checkpoint_file(filename, map_location)


def _load_http(filename: str, map_location=None, model_dir=None) -> Any:
    return load_checkpoint_url(filename, map_location, model_dir)


def register_safe_checkpoint_loading() -> None:
    """Allowlist MMEngine's checkpoint types and make mmengine's local and
    HTTP(S) checkpoint loaders use ``weights_only=True``.

    Idempotent; called when ``mmuss`` is imported.
    """
    global _REGISTERED
    if _REGISTERED:
        return
    torch.serialization.add_safe_globals(safe_checkpoint_globals())
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), force=True
    )(_load_http)
    _REGISTERED = True
