# Copyright (c) mmuss contributors. All rights reserved.
"""Safe (``weights_only=True``) checkpoint loading for MMEngine runners.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine
0.10.7's runner checkpoints then fail to load because they hold a few
non-tensor objects: the message hub's ``HistoryBuffer``, numpy arrays and
scalars in the logged statistics, and the buffer's statistics functions,
which pickle (protocol 2) as ``getattr(HistoryBuffer, 'min')``.

mmuss keeps ``weights_only=True`` and, **only while mmuss itself loads a
checkpoint** (a ``torch.serialization.safe_globals`` context, not the
process-wide allowlist), allows exactly:

- ``HistoryBuffer`` and the numpy array / scalar reconstructors and dtypes;
- in place of ``builtins.getattr``, :func:`history_buffer_statistic`: a
  narrow stand-in registered under that name which returns
  ``HistoryBuffer.min`` / ``max`` / ``mean`` / ``current`` and refuses any
  other object or attribute. The real ``getattr`` is never allowlisted: with
  it, a pickle could walk from an allowed object to torch's allowlist or to
  ``os`` and run code.

mmengine's local and HTTP(S) checkpoint schemes are routed through
:func:`load_checkpoint_file`, so no checkpoint, local or downloaded, is
ever unpickled without that safety.
"""

import os
import os.path as osp
import pickle
from typing import Any, Callable, List, Tuple, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

_REGISTERED = False

#: The statistics methods ``HistoryBuffer`` registers by default (mmengine
#: 0.10.x ``_set_default_statistics``); the only attributes a checkpoint may
#: ask :func:`history_buffer_statistic` for.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint could not be loaded with ``weights_only=True``."""


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """The stand-in for ``builtins.getattr`` while mmuss loads checkpoints.

    MMEngine's ``HistoryBuffer`` keeps its statistics functions in a dict
    that is pickled with the message hub; pickle protocol 2 writes each as
    ``getattr(HistoryBuffer, 'min')``. This function reproduces exactly those
    lookups and nothing else.

    Args:
        owner: Must be the ``HistoryBuffer`` class.
        name (str): One of :data:`HISTORY_BUFFER_STATISTICS`.

    Returns:
        Callable: ``HistoryBuffer.<name>``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'the checkpoint asks for attribute {name!r} of {owner!r}; only '
        f'HistoryBuffer.{{{", ".join(HISTORY_BUFFER_STATISTICS)}}} may be '
        'looked up while loading a checkpoint'
    )


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


def safe_checkpoint_globals() -> List[Union[Any, Tuple[Any, str]]]:
    """The globals allowed while mmuss loads a checkpoint.

    ``HistoryBuffer``, numpy's array/scalar reconstructors, ``ndarray``,
    ``dtype`` and the numeric dtype classes, and
    :func:`history_buffer_statistic` under the names ``builtins.getattr``
    and ``__builtin__.getattr`` (both spellings reach the unpickler).
    """
    stand_in = [
        (history_buffer_statistic, 'builtins.getattr'),
        (history_buffer_statistic, '__builtin__.getattr'),
    ]
    return [HistoryBuffer] + _numpy_globals() + stand_in


def load_checkpoint_file(
    filename: str, map_location: str | None = 'cpu'
) -> Any:
    """Load a local checkpoint with ``weights_only=True``.

    The globals of :func:`safe_checkpoint_globals` are allowed for this call
    only.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str, optional): Passed to ``torch.load``.

    Returns:
        The unpickled checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        UnsafeCheckpointError: If it cannot be read (corrupt, truncated or
            unsafe content), naming the file.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    try:
        with torch.serialization.safe_globals(safe_checkpoint_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True
            )
    except Exception as error:  # corrupt, truncated or unsafe content
        raise UnsafeCheckpointError(
            f'cannot load checkpoint {filename} with weights_only=True: '
            f'{type(error).__name__}: {error}'
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
    """Make mmengine's local and HTTP(S) checkpoint loaders use
    :func:`load_checkpoint_file` (``weights_only=True``, scoped allowlist).

    Idempotent; called when ``mmuss`` is imported. Nothing is added to
    torch's process-wide allowlist.
    """
    global _REGISTERED
    if _REGISTERED:
        return
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), force=True
    )(_load_http)
    _REGISTERED = True
