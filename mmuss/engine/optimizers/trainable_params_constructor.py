# Copyright (c) mmuss contributors. All rights reserved.
import inspect
from typing import List

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import (
    OPTIM_WRAPPER_CONSTRUCTORS,
    OPTIM_WRAPPERS,
    OPTIMIZERS,
)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimizer constructor that hands only trainable parameters to the
    optimizer.

    mmengine's default constructor passes every parameter, frozen ones
    included. With a frozen backbone that means hundreds of dead entries in
    the optimizer (and its state dict). This constructor keeps
    ``paramwise_cfg`` (``custom_keys`` such as a higher learning rate for the
    probes) and leaves out every parameter with ``requires_grad=False``.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cls = optimizer_cfg['type']
        if isinstance(optimizer_cls, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                optimizer_cls = registry.get(optimizer_cls)
        first_arg = next(iter(inspect.signature(optimizer_cls).parameters))
        params = self.trainable_param_groups(model)
        if not params:
            raise ValueError(
                'the model has no trainable parameter to optimize'
            )
        optimizer_cfg[first_arg] = params
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(
            optim_wrapper_cfg, default_args=dict(optimizer=optimizer)
        )

    def trainable_param_groups(self, model: nn.Module) -> List:
        """Parameters (or paramwise groups) with ``requires_grad=True``."""
        if not self.paramwise_cfg:
            return [p for p in model.parameters() if p.requires_grad]
        groups: List = []
        self.add_params(groups, model)
        return [g for g in groups if g['params'][0].requires_grad]
