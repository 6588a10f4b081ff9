# Copyright (c) mmuss contributors. All rights reserved.
"""Checkpoints saved before a module renamed its state.

A module that renamed parameters or buffers declares
``legacy_state_keys = {old_name: new_name}`` (names relative to the
module). :func:`upgrade_legacy_state` renames them in a whole model's
state dict, so that key checks (``CheckpointCheckHook``, the label-free
evaluation) and loading see the current names; the module's own
``_load_from_state_dict`` calls :func:`rename_legacy_keys` so that a plain
``load_state_dict`` works too.
"""

from typing import Dict, Mapping

from torch import nn


def rename_legacy_keys(
    state: Dict, prefix: str, legacy_keys: Mapping[str, str]
) -> None:
    """Rename ``prefix + old`` to ``prefix + new`` in ``state`` (in place)
    for every pair of ``legacy_keys``, unless the new key is present."""
    for old, new in legacy_keys.items():
        if prefix + old in state and prefix + new not in state:
            state[prefix + new] = state.pop(prefix + old)


def upgrade_legacy_state(model: nn.Module, state: Dict) -> Dict:
    """``state`` (a checkpoint's state dict, keys without a ``module.``
    prefix) with the legacy keys of every submodule of ``model`` that
    declares ``legacy_state_keys`` renamed (in place; also returned)."""
    for name, module in model.named_modules():
        legacy_keys = getattr(module, 'legacy_state_keys', None)
        if legacy_keys:
            rename_legacy_keys(state, f'{name}.' if name else '', legacy_keys)
    return state
