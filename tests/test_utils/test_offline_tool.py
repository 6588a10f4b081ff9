# Copyright (c) mmuss contributors. All rights reserved.
import pytest
from helpers import REPO_ROOT
from mmengine.config import Config

from mmuss.utils.offline_tool import (
    load_tool_config,
    offline_tool_parser,
    unwrap_dataset_cfg,
)

STEGO_DEMO = f'{REPO_ROOT}/configs/stego/tiny-vit_synthetic.py'


def test_parser_and_config_overrides():
    args = offline_tool_parser('x', batch_size=8).parse_args(
        [STEGO_DEMO, '--cfg-options', 'model.num_classes=7']
    )
    assert args.batch_size == 8 and args.dataloader == 'train_dataloader'
    assert load_tool_config(args).model.num_classes == 7


def test_unwrap_finds_the_pipeline_under_wrappers():
    cfg = Config.fromfile(STEGO_DEMO)
    inner, wrappers = unwrap_dataset_cfg(cfg, 'train_dataloader')
    assert inner['type'] == 'SyntheticScenesDataset' and 'pipeline' in inner
    assert [w['type'] for w in wrappers] == ['KNNPairDataset']
    inner, wrappers = unwrap_dataset_cfg(cfg, 'val_dataloader')
    assert wrappers == [] and inner['split'] == 'val'
    with pytest.raises(KeyError, match='no .train_loader.'):
        unwrap_dataset_cfg(cfg, 'train_loader')
