# Copyright (c) mmuss contributors. All rights reserved.
"""A test-only hook saving each rank's PriMaPs prototypes after training."""

import os

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module(force=True)
class DumpPrototypesHook(Hook):
    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_train(self, runner) -> None:
        model = (
            runner.model.module
            if is_model_wrapper(runner.model)
            else runner.model
        )
        head = model.decode_head
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save(
            dict(
                teacher=head.prototypes.teacher.cpu(),
                student=head.prototypes.student.detach().cpu(),
                steps=int(head.steps),
                kmeans_iters=int(head.kmeans_iters),
                ema_updates=int(head.prototypes.updates),
            ),
            os.path.join(self.out_dir, f'rank{runner.rank}.pth'),
        )
