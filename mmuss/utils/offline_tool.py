# Copyright (c) mmuss contributors. All rights reserved.
"""Command-line plumbing shared by the offline tools (KNN lists, PriMaPs
proposals, feature cache): the common arguments, the config with its
overrides, and the dataset config under any dataset wrappers."""

import argparse
from typing import List, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope


def offline_tool_parser(
    description: str,
    batch_size: int = 16,
    num_workers: int = 2,
    dataloader: bool = True,
) -> argparse.ArgumentParser:
    """A parser with the arguments every offline tool takes: ``config``,
    ``--dataloader`` (unless ``dataloader`` is False: tools that process
    several dataloaders), ``--batch-size``, ``--num-workers``, ``--device``
    and ``--cfg-options``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config')
    if dataloader:
        parser.add_argument(
            '--dataloader',
            default='train_dataloader',
            help='the config key of the dataloader whose dataset is processed',
        )
    parser.add_argument('--batch-size', type=int, default=batch_size)
    parser.add_argument('--num-workers', type=int, default=num_workers)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. key1=value1',
    )
    return parser


def load_tool_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with ``--cfg-options`` merged, its
    default registry scope set."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def unwrap_dataset_cfg(cfg: Config, dataloader: str) -> Tuple[dict, List]:
    """The innermost dataset config of a dataloader (the one with the
    pipeline) and the wrapper configs around it, outermost first (e.g.
    ``KNNPairDataset``).

    Raises:
        KeyError: When ``dataloader`` is not in the config.
    """
    if dataloader not in cfg:
        raise KeyError(f'the config has no {dataloader!r}')
    dataset_cfg = cfg[dataloader]['dataset'].copy()
    wrappers = []
    while 'pipeline' not in dataset_cfg and 'dataset' in dataset_cfg:
        wrappers.append(dataset_cfg)
        dataset_cfg = dataset_cfg['dataset'].copy()
    return dataset_cfg, wrappers
