# Copyright (c) mmuss contributors. All rights reserved.
"""Checkpoints saved before a module renamed its state.

A module that renamed parameters or buffers derives from
:class:`LegacyStateMixin` and declares ``legacy_state_keys = {old_name:
new_name}`` (names relative to the module): a plain ``load_state_dict``
then renames them, and :func:`upgrade_legacy_state` does the same on a
whole model's state dict for the key checks (``CheckpointCheckHook``, the
label-free evaluation).
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


class LegacyStateMixin:
    """Renames the module's ``legacy_state_keys`` while loading (put it
    before ``nn.Module`` in the bases)."""

    legacy_state_keys: Mapping[str, str] = {}

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        rename_legacy_keys(state_dict, prefix, self.legacy_state_keys)
        super()._load_from_state_dict(state_dict, prefix, *args)
