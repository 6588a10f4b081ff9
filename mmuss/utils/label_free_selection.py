# Copyright (c) mmuss contributors. All rights reserved.
"""Label-free model selection (issue 20): the config switch and the
offline evaluation shared by ``tools/train.py`` and the analysis tools.

The switch, one line in a config (or ``tools/train.py --select-by``)::

    label_free_selection = 'affinity'   # or dict(score=..., metric=...,
                                        #          selection=...)

adds :class:`~mmuss.evaluation.metrics.LabelFreeScoreMetric` to the
validation evaluator, turns on the segmentor's ``test_cfg.selection``
outputs and makes the checkpoint hook keep the best checkpoint by
``label_free/<score>`` (``save_best``, rule ``'greater'``). Nothing on
this path reads a label.
"""

import argparse
import copy
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner, load_checkpoint
from mmseg.registry import METRICS, MODELS

from mmuss.evaluation.metrics import LABEL_FREE_SCORES
from mmuss.utils.atomic_io import atomic_path

#: Prefix of the label-free metric names.
SCORE_PREFIX = 'label_free'


def check_score_name(score: str) -> str:
    """``score`` if it names a label-free score (``agreement_<view>``
    included).

    Raises:
        ValueError: Naming the score and the known ones.
    """
    if score in LABEL_FREE_SCORES or re.fullmatch(r'agreement_\w+', score):
        return score
    raise ValueError(
        f'unknown label-free score {score!r}; known: {LABEL_FREE_SCORES} '
        'and agreement_<view>'
    )


def selection_setting(cfg: Config, score: Optional[str] = None) -> dict:
    """The ``label_free_selection`` setting as a dict (``score``,
    ``metric``, ``selection``), ``score`` overriding the config's; empty
    when selection is off."""
    setting = cfg.get('label_free_selection')
    if score is not None:
        setting = dict(
            setting if isinstance(setting, dict) else {}, score=score
        )
    if not setting:
        return {}
    if isinstance(setting, str):
        setting = dict(score=setting)
    setting = dict(setting)
    unknown = sorted(set(setting) - {'score', 'metric', 'selection'})
    if unknown:
        raise KeyError(
            f'label_free_selection has unknown keys {unknown}; known: '
            'score, metric, selection'
        )
    if 'score' not in setting:
        raise KeyError('label_free_selection needs a "score"')
    check_score_name(setting['score'])
    return setting


def selection_test_cfg(setting: dict) -> dict:
    """The segmentor's ``test_cfg.selection`` of a setting: the head's
    objective is computed only when it is the score (it costs a head
    loss per batch and needs what the loss reads)."""
    selection = dict(setting.get('selection') or {})
    selection.setdefault('objective', setting['score'] == 'objective')
    return selection


def with_label_free_metric(evaluator, metric: dict) -> List[dict]:
    """The evaluator config as a list with a
    :class:`LabelFreeScoreMetric` (one only)."""
    if evaluator is None:
        evaluators = []
    elif isinstance(evaluator, (list, tuple)):
        evaluators = list(evaluator)
    else:
        evaluators = [evaluator]
    evaluators = [
        e for e in evaluators if e.get('type') != 'LabelFreeScoreMetric'
    ]
    return evaluators + [dict(type='LabelFreeScoreMetric', **metric)]


def apply_label_free_selection(
    cfg: Config, score: Optional[str] = None
) -> Optional[str]:
    """Apply the ``label_free_selection`` switch to a training config in
    place (see module doc).

    Args:
        cfg (Config): The config.
        score (str, optional): Overrides the config's score.

    Returns:
        str | None: The metric key checkpoints are selected on, or None
        when the switch is off (the config is then unchanged).
    """
    setting = selection_setting(cfg, score)
    if not setting:
        return None
    cfg.model.test_cfg = ConfigDict(
        dict(cfg.model.get('test_cfg') or {}),
        selection=selection_test_cfg(setting),
    )
    cfg.val_evaluator = with_label_free_metric(
        cfg.get('val_evaluator'), setting.get('metric') or {}
    )
    key = f'{SCORE_PREFIX}/{setting["score"]}'
    checkpoint = cfg.setdefault('default_hooks', ConfigDict()).setdefault(
        'checkpoint', ConfigDict(type='CheckpointHook')
    )
    checkpoint.update(save_best=key, rule='greater')
    return key


def discover_checkpoints(entry: str) -> List[Tuple[str, str]]:
    """(config, checkpoint) pairs of an entry: ``CONFIG::CHECKPOINT`` or a
    work dir (its dumped config, every ``*.pth`` in it, sorted).

    Raises:
        FileNotFoundError: Naming the entry when nothing is found.
    """
    if '::' in entry:
        config, checkpoint = entry.split('::', 1)
        for path in (config, checkpoint):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path} (of {entry!r}) not found')
        return [(config, checkpoint)]
    if not osp.isdir(entry):
        raise FileNotFoundError(
            f'{entry!r} is neither CONFIG::CHECKPOINT nor a work dir'
        )
    configs = sorted(glob.glob(osp.join(entry, '*.py')))
    checkpoints = sorted(
        glob.glob(osp.join(entry, '*.pth')), key=checkpoint_order
    )
    if len(configs) != 1 or not checkpoints:
        raise FileNotFoundError(
            f'work dir {entry} needs exactly one dumped config (*.py, found '
            f'{len(configs)}) and checkpoints (*.pth, found '
            f'{len(checkpoints)})'
        )
    return [(configs[0], checkpoint) for checkpoint in checkpoints]


def checkpoint_order(path: str) -> tuple:
    """Sort key of a checkpoint file: the last number in its name (the
    iteration or epoch; -1 without one), then the path."""
    numbers = re.findall(r'\d+', osp.basename(path))
    return (int(numbers[-1]) if numbers else -1, path)


def evaluation_config(
    config: str,
    data_root: Optional[str] = None,
    split: str = 'val',
    num_images: Optional[int] = None,
    batch_size: int = 4,
    cfg_options: Optional[dict] = None,
) -> Config:
    """A config ready for :func:`evaluate_checkpoint`: its validation
    dataloader on ``split`` (and ``data_root``), ``num_images`` first
    images, no workers."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    loader = cfg.val_dataloader
    dataset = loader.dataset
    if data_root is not None:
        dataset.data_root = data_root
    if split != 'val':
        dataset.split = split
    if num_images is not None:
        dataset.indices = num_images
    loader.batch_size = batch_size
    loader.num_workers = 0
    loader.persistent_workers = False
    return cfg


def load_model_checkpoint(model: torch.nn.Module, checkpoint: str) -> None:
    """Load ``checkpoint`` into ``model``: every weight must match, as
    ``tools/test.py`` requires; a missing extra state (a module state
    added after the checkpoint was saved, e.g. the cluster-to-class
    mapping) starts empty instead of failing.

    Raises:
        ValueError: Naming the checkpoint and the missing or unexpected
            weights.
    """
    from mmuss.engine.hooks.checkpoint_check_hook import (
        checkpoint_model_state,
        compare_state_keys,
    )

    saved = load_checkpoint(
        model, checkpoint, map_location='cpu', strict=False
    )
    missing, _, unexpected = compare_state_keys(
        model.state_dict().keys(), checkpoint_model_state(model, saved).keys()
    )
    if missing or unexpected:
        raise ValueError(
            f'{checkpoint} does not fit {type(model).__name__}: missing '
            f'{missing[:5]}, unexpected {unexpected[:5]}'
        )


def evaluate_checkpoint(
    cfg: Config,
    checkpoint: str,
    metrics: List[dict],
    selection: Optional[dict] = None,
    device: str = 'cpu',
) -> Dict[str, float]:
    """Scores of a checkpoint on the config's validation dataloader.

    Args:
        cfg (Config): See :func:`evaluation_config`.
        checkpoint (str): Loaded with ``weights_only=True`` (mmuss routes
            mmengine's loading through its safe loader), strictly.
        metrics (list[dict]): Metric configs.
        selection (dict, optional): ``test_cfg.selection`` (None: off).
        device (str): Defaults to ``'cpu'``.

    Returns:
        dict[str, float]: The metrics' outputs, merged.
    """
    model_cfg = copy.deepcopy(cfg.model)
    test_cfg = dict(model_cfg.get('test_cfg') or {})
    test_cfg.pop('selection', None)
    if selection is not None:
        test_cfg['selection'] = selection
    model_cfg.test_cfg = test_cfg
    model = MODELS.build(model_cfg)
    model.init_weights()
    load_model_checkpoint(model, checkpoint)
    model.to(device).eval()
    loader = Runner.build_dataloader(cfg.val_dataloader)
    built = [METRICS.build(m) for m in metrics]
    for metric in built:
        metric.dataset_meta = loader.dataset.metainfo
    with torch.no_grad():
        for data in loader:
            samples = [s.to_dict() for s in model.test_step(data)]
            for metric in built:
                metric.process(data, samples)
    scores = {}
    for metric in built:
        scores.update(metric.evaluate(len(loader.dataset)))
    return {key: float(value) for key, value in scores.items()}


def add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments the selection tools share."""
    parser.add_argument(
        'entries', nargs='+', help='work dirs or CONFIG::CHECKPOINT'
    )
    parser.add_argument('--out', help='JSON results (resumed when present)')
    parser.add_argument(
        '--data-root', help='data_root of the validation dataset'
    )
    parser.add_argument('--num-images', type=int, help='first N images')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--selection',
        nargs='+',
        action=DictAction,
        default={},
        help='test_cfg.selection options, e.g. views=[flip]',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of every config, e.g. key1=value1',
    )


def load_results(path: Optional[str]) -> dict:
    """Results of an earlier run (keyed by checkpoint), or empty.

    Raises:
        ValueError: Naming the file when it is not a results object.
    """
    if not path or not osp.isfile(path):
        return {}
    with open(path) as file:
        try:
            results = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f'{path} is not valid JSON: {error}') from error
    if not isinstance(results, dict) or not isinstance(
        results.get('checkpoints'), dict
    ):
        raise ValueError(f'{path} holds no "checkpoints" object to resume')
    return results['checkpoints']


def save_results(path: Optional[str], results: dict, **extra) -> None:
    """Write the results atomically (when ``path`` is set)."""
    if not path:
        return
    with atomic_path(path) as tmp_path:
        with open(tmp_path, 'w') as file:
            json.dump(dict(extra, checkpoints=results), file, indent=2)
