# Copyright (c) mmuss contributors. All rights reserved.
import glob
import logging
import os.path as osp
import re
import zipfile
from typing import Iterable, List, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS
from torch import nn

from mmuss.models.utils.legacy_state import upgrade_legacy_state

#: Key suffix of module state that is not a weight (e.g. the cluster
#: probe's seed bank); its absence is reported, not an error.
EXTRA_STATE_SUFFIX = '._extra_state'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model."""


def is_readable_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete torch checkpoint: a zip archive (the
    format of ``torch.save``) whose members all pass their CRC check and
    that holds a ``data.pkl``. A file cut short by a killed save fails."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not any(name.endswith('data.pkl') for name in names):
                return False
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def _checkpoint_order(path: str) -> tuple:
    """Newest first: by the iteration / epoch number in the name, then by
    modification time."""
    match = re.search(r'(\d+)\.pth$', osp.basename(path))
    return (int(match.group(1)) if match else -1, osp.getmtime(path))


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The newest readable checkpoint of a work dir.

    The file named by ``last_checkpoint`` comes first, then every ``*.pth``
    of ``work_dir``, newest first. Unreadable candidates (truncated,
    corrupt) are skipped with a warning naming them.

    Args:
        work_dir (str): The run's work directory.

    Returns:
        str or None: Path of the checkpoint to resume from, or None.
    """
    candidates: List[str] = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as file:
            named = file.read().strip()
        if named:
            candidates.append(named)
    found = sorted(
        glob.glob(osp.join(work_dir, '*.pth')),
        key=_checkpoint_order,
        reverse=True,
    )
    candidates += [path for path in found if path not in candidates]
    for path in candidates:
        if osp.isfile(path) and is_readable_checkpoint(path):
            return path
        print_log(
            f'skipping checkpoint {path}: missing, truncated or corrupt',
            logger='current',
            level=logging.WARNING,
        )
    return None


def _summarise(keys: Sequence[str], limit: int = 20) -> str:
    shown = ', '.join(keys[:limit])
    more = f' (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return shown + more


def checkpoint_model_state(model: nn.Module, checkpoint: dict) -> dict:
    """A checkpoint's weights as ``model`` names them: its ``state_dict``
    (or the checkpoint itself) without a ``module.`` prefix, the legacy
    keys of the model's modules renamed (:func:`upgrade_legacy_state`)."""
    state = checkpoint.get('state_dict', checkpoint)
    state = {re.sub(r'^module\.', '', key): v for key, v in state.items()}
    return upgrade_legacy_state(model, state)


def compare_state_keys(
    model_keys: Iterable[str], checkpoint_keys: Iterable[str]
) -> tuple:
    """Keys missing from a checkpoint and keys it has in excess.

    Returns:
        tuple[list[str], list[str], list[str]]: Missing weights, missing
        extra states (non-weight module state, e.g. a seed bank) and
        unexpected keys, each sorted.
    """
    model_keys, checkpoint_keys = set(model_keys), set(checkpoint_keys)
    missing = sorted(model_keys - checkpoint_keys)
    missing_extra = [k for k in missing if k.endswith(EXTRA_STATE_SUFFIX)]
    missing = [k for k in missing if not k.endswith(EXTRA_STATE_SUFFIX)]
    unexpected = sorted(checkpoint_keys - model_keys)
    return missing, missing_extra, unexpected


def shape_mismatches(model_state: dict, checkpoint_state: dict) -> List[str]:
    """``key: checkpoint shape vs model shape`` for the weights present in
    both with different shapes (extra states, whose length varies, are
    left to their module)."""
    found = []
    for key, value in checkpoint_state.items():
        target = model_state.get(key)
        if (
            key.endswith(EXTRA_STATE_SUFFIX)
            or not hasattr(value, 'shape')
            or not hasattr(target, 'shape')
        ):
            continue
        if tuple(value.shape) != tuple(target.shape):
            found.append(
                f'{key}: {tuple(value.shape)} in the checkpoint, '
                f'{tuple(target.shape)} in the model'
            )
    return sorted(found)


@HOOKS.register_module()
class CheckpointCheckHook(Hook):
    """Refuse checkpoints that do not fit the model; resume from the newest
    readable checkpoint.

    - **Keys.** When the runner loads a checkpoint (``load_from``,
      ``tools/test.py``, ``--resume``), its ``state_dict`` keys and shapes
      are compared with the model's. Missing, unexpected or differently
      shaped weights stop the run with the lists (MMEngine alone only logs
      them and goes on, e.g. scoring an untrained head).
      ``strict_keys=False`` (``--allow-key-mismatch`` of the tools) turns
      the error into a warning. Missing ``_extra_state``
      entries (non-weight state such as the cluster probe's seed bank, which
      older checkpoints lack) are always a warning.
    - **Resume.** With ``resume=True`` and no ``load_from``, the checkpoint
      is chosen by :func:`find_resumable_checkpoint`: the one
      ``last_checkpoint`` names if it is readable, otherwise the newest
      readable ``*.pth``, each skipped file named in a warning; with none, a
      warning says training starts from iteration 0 (MMEngine does so
      silently).

    Args:
        strict_keys (bool): Raise on missing or unexpected keys. Defaults to
            True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict_keys: bool = True) -> None:
        self.strict_keys = strict_keys

    def before_run(self, runner: Runner) -> None:
        # MMEngine has no public setter for the resume source; its
        # load_or_resume() reads these two attributes after before_run.
        if not getattr(runner, '_resume', False) or runner._load_from:
            return
        path = find_resumable_checkpoint(runner.work_dir)
        if path is None:
            print_log(
                f'resume requested but {runner.work_dir} holds no readable '
                'checkpoint; training starts from iteration 0',
                logger='current',
                level=logging.WARNING,
            )
            runner._resume = False
        else:
            runner._load_from = path

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        model = (
            runner.model.module
            if is_model_wrapper(runner.model)
            else (runner.model)
        )
        state = checkpoint_model_state(model, checkpoint)
        model_state = model.state_dict()
        missing, missing_extra, unexpected = compare_state_keys(
            model_state.keys(), state.keys()
        )
        resized = shape_mismatches(model_state, state)
        if missing_extra:
            print_log(
                'the checkpoint has no saved state for '
                f'{_summarise(missing_extra)}; it starts empty',
                logger='current',
                level=logging.WARNING,
            )
        if not missing and not unexpected and not resized:
            return
        message = (
            f'the checkpoint does not fit {type(model).__name__}: '
            f'{len(missing)} missing keys [{_summarise(missing)}], '
            f'{len(unexpected)} unexpected keys [{_summarise(unexpected)}], '
            f'{len(resized)} of other shapes [{_summarise(resized)}]'
        )
        if self.strict_keys:
            raise CheckpointMismatchError(
                message + '. Check that config and checkpoint belong '
                'together; --allow-key-mismatch (strict_keys=False) loads '
                'it anyway'
            )
        print_log(message, logger='current', level=logging.WARNING)
