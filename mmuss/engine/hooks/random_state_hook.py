# Copyright (c) mmuss contributors. All rights reserved.
import logging
from typing import Any, Dict, List, Optional

import torch.distributed as torch_dist
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from mmuss.utils.random_state import (
    capture_random_states,
    restore_random_states,
)

#: Checkpoint key under which the per-rank random states are stored.
RANDOM_STATES_KEY = 'random_states'


def _gather_states() -> List[Dict[str, Any]]:
    """Every rank's random states, in rank order, on every rank."""
    gathered: List[Any] = [None] * get_world_size()
    torch_dist.all_gather_object(gathered, capture_random_states())
    return gathered


class _RestoreAfterSkip:
    """Wraps the iteration-based loop's dataloader iterator on resume.

    MMEngine's ``IterBasedTrainLoop`` replays the ``N`` batches a resumed
    run has already trained on (``next()`` N times) before it fetches batch
    N + 1. Replaying draws from the global generators when the data pipeline
    runs in the main process, so the saved states are restored after the
    replay, immediately before the first new batch is fetched.
    """

    def __init__(self, loop, skip: int, states: Dict[str, Any]) -> None:
        self._loop = loop
        self._iterator = loop.dataloader_iterator
        self._skip = skip
        self._states = states
        self._calls = 0

    def __next__(self):
        if self._calls == self._skip:
            restore_random_states(self._states)
            self._loop.dataloader_iterator = self._iterator
        self._calls += 1
        return next(self._iterator)

    def __iter__(self):
        return self

    def __getattr__(self, name: str):
        return getattr(self._iterator, name)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Makes a resumed run continue exactly where the interrupted one was.

    - Every checkpoint stores the global random states (Python, numpy,
      torch CPU and CUDA) of every rank under ``'random_states'``, captured
      at the moment the checkpoint is written (model-owned random state,
      such as :class:`ClusterProbe`'s seed bank, travels in the state dict).
    - On resume (``--resume``), the states of this rank are restored where
      the uninterrupted run stood: for iteration-based loops right after
      MMEngine has replayed the already-trained batches, for epoch-based
      loops at the start of the resumed epoch. Kill + resume then gives the
      uninterrupted run's weights and metrics exactly (tested).
    - Validation during training runs between a checkpoint and the next
      step, so it is fenced (``fence_validation``): the random states after
      validation equal those before it. A run's training therefore does not
      depend on how often it is validated, and a resumed run, which does not
      repeat the validation at its starting step, stays exact.

    Args:
        fence_validation (bool): Keep validation from changing the
            training's random states. Defaults to True.
    """

    # After hooks that draw random numbers in ``after_train_iter`` (NORMAL),
    # before the CheckpointHook (VERY_LOW) writes the checkpoint.
    priority = 'LOW'

    def __init__(self, fence_validation: bool = True) -> None:
        self.fence_validation = fence_validation
        self._gathered: Optional[List[Dict[str, Any]]] = None
        self._pending: Optional[Dict[str, Any]] = None
        self._before_val: Optional[Dict[str, Any]] = None

    # saving -------------------------------------------------------------

    def after_train_iter(
        self, runner: Runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if get_world_size() > 1 and self._checkpoint_due(runner, False):
            self._gathered = _gather_states()

    def after_train_epoch(self, runner: Runner) -> None:
        if get_world_size() > 1 and self._checkpoint_due(runner, True):
            self._gathered = _gather_states()

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Store every rank's random states (rank 0 writes the file)."""
        if get_world_size() > 1 and self._gathered is not None:
            checkpoint[RANDOM_STATES_KEY] = self._gathered
        else:
            checkpoint[RANDOM_STATES_KEY] = [capture_random_states()]
        self._gathered = None

    @staticmethod
    def _checkpoint_due(runner: Runner, epoch_end: bool) -> bool:
        """Whether a :class:`CheckpointHook` saves at this point (its own
        interval logic), so that all ranks gather their states then."""
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.interval <= 0:
                continue
            if hook.by_epoch != epoch_end:
                continue
            if epoch_end:
                due = hook.every_n_epochs(
                    runner, hook.interval, hook.save_begin
                )
                last = hook.is_last_train_epoch(runner)
            else:
                due = hook.every_n_train_iters(
                    runner, hook.interval, hook.save_begin
                )
                last = hook.is_last_train_iter(runner)
            if due or (hook.save_last and last):
                return True
        return False

    # resuming -----------------------------------------------------------

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Remember this rank's states when the run resumes."""
        if not getattr(runner, '_resume', False):
            return
        states = checkpoint.get(RANDOM_STATES_KEY)
        if not states:
            print_log(
                'the checkpoint holds no random states (written without '
                'RandomStateHook); the resumed run will not repeat the '
                'uninterrupted one exactly',
                logger='current',
                level=logging.WARNING,
            )
            return
        rank = get_rank()
        if len(states) != get_world_size():
            print_log(
                f'the checkpoint holds random states of {len(states)} '
                f'processes, this run has {get_world_size()}; rank {rank} '
                f'continues from those of rank {min(rank, len(states) - 1)}',
                logger='current',
                level=logging.WARNING,
            )
        self._pending = states[min(rank, len(states) - 1)]

    def before_train_epoch(self, runner: Runner) -> None:
        if self._pending is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator') and runner.iter > 0:
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop, runner.iter, self._pending
            )
        else:
            restore_random_states(self._pending)
        self._pending = None

    # validation fence ---------------------------------------------------

    def before_val(self, runner: Runner) -> None:
        if self.fence_validation:
            self._before_val = capture_random_states()

    def after_val(self, runner: Runner) -> None:
        if self._before_val is not None:
            restore_random_states(self._before_val)
            self._before_val = None
