# Copyright (c) mmuss contributors. All rights reserved.
import logging
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS
from torch import Tensor, nn


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or infinite loss, gradient or weight."""


def non_finite_entries(tensors: Dict[str, Tensor]) -> List[str]:
    """Names of the floating-point tensors holding a NaN or infinity.

    One device synchronisation for all tensors.
    """
    named = [
        (name, tensor)
        for name, tensor in tensors.items()
        if isinstance(tensor, Tensor) and tensor.is_floating_point()
    ]
    if not named:
        return []
    finite = torch.stack(
        [torch.isfinite(tensor).all().to('cpu') for _, tensor in named]
    )
    return [name for (name, _), ok in zip(named, finite.tolist()) if not ok]


def _describe(values: Dict[str, Tensor], names: List[str]) -> str:
    parts = []
    for name in names[:10]:
        value = values[name]
        shown = f'{value.item():g}' if value.numel() == 1 else 'non-finite'
        parts.append(f'{name}={shown}')
    more = f' (+{len(names) - 10} more)' if len(names) > 10 else ''
    return ', '.join(parts) + more


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Stop (or skip) a training step whose loss, gradients or weights are
    not finite, instead of training on and saving NaN weights.

    - Before every optimizer step (a step pre-hook on the optimizer), the
      gradients are checked. With ``policy='raise'`` (default) a NaN or
      infinite gradient stops training with :class:`NonFiniteError`, naming
      the non-finite loss terms, the parameters and the step. With
      ``policy='skip'`` the step is skipped (all gradients dropped, so the
      optimizer changes neither weights nor its moments) and a warning
      says so; ``skipped_steps`` is logged. Under distributed training the
      gradients are already averaged over ranks, so all ranks decide alike.
    - After every step (before checkpoints are written), the loss terms and
      the model's trainable parameters and floating-point buffers (EMA
      prototypes, probe centres) are checked; non-finite values stop
      training whatever the policy, since they cannot be undone.

    Evaluation refuses non-finite codes separately (the segmentor names the
    images).

    Args:
        policy (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
    """

    # After hooks that update weights in after_train_iter (EMA, NORMAL),
    # before the CheckpointHook (VERY_LOW) saves them.
    priority = 'LOW'

    def __init__(self, policy: str = 'raise') -> None:
        if policy not in ('raise', 'skip'):
            raise ValueError(
                f'policy must be "raise" or "skip", got {policy!r}'
            )
        self.policy = policy
        self.skipped_steps = 0
        self._runner: Optional[Runner] = None
        self._losses: Dict[str, Tensor] = {}
        self._handles = []

    def before_train(self, runner: Runner) -> None:
        self._runner = runner
        model = self._model(runner)
        parse_losses = model.parse_losses

        def remembering_parse_losses(losses):
            self._losses = {
                name: value.detach()
                for name, value in losses.items()
                if isinstance(value, Tensor)
            }
            return parse_losses(losses)

        # Instance attribute: also used by MMEngine's DDP wrapper, which
        # calls ``module.parse_losses``.
        model.parse_losses = remembering_parse_losses
        optim_wrapper = runner.optim_wrapper
        wrappers = (
            optim_wrapper.values()
            if hasattr(optim_wrapper, 'values')
            else [optim_wrapper]
        )
        for wrapper in wrappers:
            self._handles.append(
                wrapper.optimizer.register_step_pre_hook(self._before_step)
            )

    def after_train(self, runner: Runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @staticmethod
    def _model(runner: Runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _step(self) -> int:
        return self._runner.iter + 1 if self._runner is not None else -1

    def _before_step(self, optimizer, args, kwargs) -> None:
        grads = {
            f'param{group}.{index}': param.grad
            for group, param_group in enumerate(optimizer.param_groups)
            for index, param in enumerate(param_group['params'])
            if param.grad is not None
        }
        bad = non_finite_entries(grads)
        if not bad:
            return
        names = self._parameter_names(optimizer, bad)
        bad_losses = non_finite_entries(self._losses)
        losses = (
            f'non-finite loss terms {_describe(self._losses, bad_losses)}'
            if bad_losses
            else 'all loss terms of this rank finite'
        )
        message = (
            f'non-finite gradients at training step {self._step()} '
            f'({losses}) in {len(bad)} parameters: {", ".join(names[:10])}'
        )
        if self.policy == 'raise':
            raise NonFiniteError(
                message + '. Lower the learning rate, check the inputs, or '
                'set NonFiniteCheckHook(policy="skip") to skip such steps'
            )
        for param_group in optimizer.param_groups:
            for param in param_group['params']:
                param.grad = None
        self.skipped_steps += 1
        print_log(
            message + '; step skipped', logger='current', level=logging.WARNING
        )

    def _parameter_names(self, optimizer, keys: List[str]) -> List[str]:
        names = {
            id(param): name
            for name, param in self._model(self._runner).named_parameters()
        }
        found = []
        for key in keys:
            group, index = key[len('param') :].split('.')
            param = optimizer.param_groups[int(group)]['params'][int(index)]
            found.append(names.get(id(param), key))
        return found

    def after_train_iter(
        self, runner: Runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if self.policy == 'skip':
            runner.message_hub.update_scalar(
                'train/skipped_steps', self.skipped_steps
            )
        if self.policy == 'raise':
            bad_losses = non_finite_entries(self._losses)
            if bad_losses:
                raise NonFiniteError(
                    f'non-finite loss at training step {self._step()}: '
                    f'{_describe(self._losses, bad_losses)}'
                )
        model = self._model(runner)
        state = {
            name: param
            for name, param in model.named_parameters()
            if param.requires_grad
        }
        state.update(dict(model.named_buffers()))
        bad = non_finite_entries(state)
        if bad:
            raise NonFiniteError(
                f'non-finite weights after training step {self._step()}: '
                f'{", ".join(bad[:10])}'
                + (f' (+{len(bad) - 10} more)' if len(bad) > 10 else '')
                + '; training stopped before they are saved'
            )
