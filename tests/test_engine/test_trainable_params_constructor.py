# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 4)
        self.backbone.requires_grad_(False)
        self.head = nn.Linear(4, 2)
        self.probe = nn.Linear(2, 2)


def optimizer_for(model, **cfg):
    return build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='Adam', lr=1e-3),
            constructor='TrainableParamsOptimWrapperConstructor',
            **cfg,
        ),
    ).optimizer


def test_frozen_parameters_are_left_out():
    model = Model()
    optimizer = optimizer_for(model)
    params = [p for g in optimizer.param_groups for p in g['params']]
    assert {id(p) for p in params} == {
        id(p) for m in (model.head, model.probe) for p in m.parameters()
    }


def test_paramwise_cfg_is_kept():
    model = Model()
    optimizer = optimizer_for(
        model, paramwise_cfg=dict(custom_keys={'probe': dict(lr_mult=10)})
    )
    lrs = {id(p): g['lr'] for g in optimizer.param_groups for p in g['params']}
    assert lrs[id(model.probe.weight)] == pytest.approx(1e-2)
    assert lrs[id(model.head.weight)] == pytest.approx(1e-3)
    assert id(model.backbone.weight) not in lrs


def test_nothing_to_train_is_an_error():
    model = Model()
    model.requires_grad_(False)
    with pytest.raises(ValueError, match='no trainable parameter'):
        optimizer_for(model)
