# Copyright (c) mmuss contributors. All rights reserved.

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS


def _dataset_of(loop) -> object | None:
    dataloader = getattr(loop, 'dataloader', None)
    return getattr(dataloader, 'dataset', None)


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Check, before any work, that the model and the datasets agree on the
    number of classes.

    A config that pairs a 27-class model with a 3-class dataset would
    otherwise train for hours and fail (or silently mis-score) at the first
    evaluation. The model's ``num_classes`` is compared with the number of
    ``classes`` in the metainfo of every dataset the run uses (the model
    itself guarantees at least as many clusters as classes).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner: Runner) -> None:
        self._check(runner, runner.train_loop, 'train_dataloader')
        if runner.val_loop is not None:
            self._check(runner, runner.val_loop, 'val_dataloader')

    def before_val(self, runner: Runner) -> None:
        self._check(runner, runner.val_loop, 'val_dataloader')

    def before_test(self, runner: Runner) -> None:
        self._check(runner, runner.test_loop, 'test_dataloader')

    @staticmethod
    def _check(runner: Runner, loop, name: str) -> None:
        model = (
            runner.model.module
            if is_model_wrapper(runner.model)
            else runner.model
        )
        num_classes = getattr(model, 'num_classes', None)
        dataset = _dataset_of(loop)
        if num_classes is None or dataset is None:
            return
        classes = dataset.metainfo.get('classes')
        if classes is None:
            return
        if len(classes) != num_classes:
            raise ValueError(
                f'{name}.dataset ({type(dataset).__name__}) has '
                f'{len(classes)} classes but model.num_classes is '
                f'{num_classes}; set them to the same value'
            )
