# Copyright (c) mmuss contributors. All rights reserved.
import pytest
from helpers import demo_config
from mmengine.runner import Runner


def test_mismatched_class_count_fails_before_training(tmp_path):
    cfg = demo_config(tmp_path / 'work', tmp_path / 'data', max_iters=4)
    cfg.model.num_classes = 5  # the synthetic dataset has 11 classes
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
        ValueError, match='has 11 classes but model.num_classes is 5'
    ):
        runner.train()
    assert runner.iter == 0


def test_mismatched_class_count_fails_before_testing(tmp_path):
    cfg = demo_config(tmp_path / 'work', tmp_path / 'data')
    cfg.model.num_classes = 7
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='test_dataloader.dataset'):
        runner.test()
