# Copyright (c) mmuss contributors. All rights reserved.
"""Capture and restore every global random state a training step draws
from: Python's ``random``, numpy's legacy global generator, torch's CPU
generator and, where present, the CUDA generators.

The captured state holds only tensors, ints, strings and lists, so it is
stored in checkpoints that load with ``weights_only=True`` and no extra
allowlisted type.
"""

import random
from contextlib import contextmanager
from typing import Any, Dict, Iterator

import numpy as np
import torch


def capture_random_states() -> Dict[str, Any]:
    """The current global random states, as plain checkpoint data.

    Returns:
        dict: ``python`` (version, internal state as a uint32 tensor,
        gauss), ``numpy`` (algorithm, key tensor, position, has_gauss,
        cached_gaussian), ``torch`` (uint8 tensor) and ``cuda`` (list of
        uint8 tensors, empty without CUDA).
    """
    version, internal, gauss = random.getstate()
    algorithm, key, position, has_gauss, cached = np.random.get_state()
    return dict(
        python=dict(
            version=version,
            internal=torch.tensor(internal, dtype=torch.int64),
            gauss=gauss,
        ),
        numpy=dict(
            algorithm=str(algorithm),
            key=torch.from_numpy(key.astype(np.int64)),
            position=int(position),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached),
        ),
        torch=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state_all()
        if torch.cuda.is_available()
        else [],
    )


def restore_random_states(states: Dict[str, Any]) -> None:
    """Set the global random states captured by
    :func:`capture_random_states`.

    Args:
        states (dict): Output of :func:`capture_random_states`.

    Raises:
        KeyError: If ``states`` lacks one of the generators.
    """
    python = states['python']
    random.setstate(
        (
            python['version'],
            tuple(int(v) for v in python['internal'].tolist()),
            python['gauss'],
        )
    )
    numpy_state = states['numpy']
    np.random.set_state(
        (
            numpy_state['algorithm'],
            numpy_state['key'].numpy().astype(np.uint32),
            numpy_state['position'],
            numpy_state['has_gauss'],
            numpy_state['cached_gaussian'],
        )
    )
    torch.set_rng_state(states['torch'].to(torch.uint8))
    cuda_states = states.get('cuda') or []
    if cuda_states and torch.cuda.is_available():
        if len(cuda_states) != torch.cuda.device_count():
            cuda_states = cuda_states[: torch.cuda.device_count()]
        for device, state in enumerate(cuda_states):
            torch.cuda.set_rng_state(state.to(torch.uint8), device)


@contextmanager
def preserved_random_states() -> Iterator[None]:
    """Run a block without changing the global random states seen after
    it (e.g. validation inside training)."""
    states = capture_random_states()
    try:
        yield
    finally:
        restore_random_states(states)
