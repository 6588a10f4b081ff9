# Copyright (c) mmuss contributors. All rights reserved.
"""Store and find the cluster-to-class mapping of a checkpoint.

A mapping is stored twice: inside the checkpoint (the state-dict entry
``cluster_mapping._extra_state`` that every loader restores, and a copy in
``meta['cluster_mapping']`` for people reading the file) and as a small
JSON next to it (``iter_2000.pth`` -> ``iter_2000.cluster_mapping.json``).
"""

import json
import os.path as osp
from typing import Sequence

import torch
from mmengine.evaluator import Evaluator

from mmuss.evaluation.metrics import HungarianIoUMetric
from mmuss.models.utils.cluster_mapping import (
    check_mapping_record,
    encode_mapping_record,
    mapping_record,
)
from mmuss.utils.atomic_io import atomic_path
from mmuss.utils.checkpoint_safety import load_checkpoint_file

#: State-dict key of the mapping of an :class:`UnsupervisedEncoderDecoder`.
MAPPING_STATE_KEY = 'cluster_mapping._extra_state'
MAPPING_JSON_SUFFIX = '.cluster_mapping.json'


def mapping_json_path(checkpoint: str) -> str:
    """``work/iter_2000.pth`` -> ``work/iter_2000.cluster_mapping.json``."""
    return osp.splitext(checkpoint)[0] + MAPPING_JSON_SUFFIX


def save_mapping_json(record: dict, path: str) -> None:
    """Write a checked mapping record as JSON, atomically."""
    check_mapping_record(record)
    with atomic_path(path) as tmp_path:
        with open(tmp_path, 'w') as file:
            json.dump(record, file, indent=2)


def load_mapping_json(path: str, num_clusters: int | None = None) -> dict:
    """Read and check a mapping JSON.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If it is not JSON or not a valid mapping, naming the
            file and the key at fault.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'cluster mapping file {path} does not exist')
    try:
        with open(path) as file:
            record = json.load(file)
        if not isinstance(record, dict):
            raise ValueError('the file does not hold a JSON object')
        check_mapping_record(record, num_clusters)
    except ValueError as error:
        raise ValueError(f'cluster mapping file {path}: {error}') from error
    return record


def store_mapping_in_checkpoint(checkpoint: str, record: dict) -> str:
    """Put a mapping into a checkpoint (rewritten atomically) and write
    the JSON next to it.

    Args:
        checkpoint (str): Path of a checkpoint of an
            :class:`UnsupervisedEncoderDecoder` (loaded with
            ``weights_only=True``).
        record (dict): See :func:`mapping_record`.

    Returns:
        str: Path of the JSON written.
    """
    check_mapping_record(record)
    content = load_checkpoint_file(checkpoint)
    state = content.get('state_dict', content)
    if not isinstance(state, dict):
        raise ValueError(f'checkpoint {checkpoint} holds no state dict')
    state[MAPPING_STATE_KEY] = encode_mapping_record(record)
    if 'state_dict' in content:
        content.setdefault('meta', {})['cluster_mapping'] = record
    with atomic_path(checkpoint) as tmp_path:
        torch.save(content, tmp_path)
    json_path = mapping_json_path(checkpoint)
    save_mapping_json(record, json_path)
    return json_path


def hungarian_mapping_of(
    evaluator: Evaluator | Sequence, **source
) -> dict | None:
    """The mapping record of the last evaluation of an evaluator's
    :class:`HungarianIoUMetric`, or None if it has not evaluated.

    Args:
        evaluator: An MMEngine evaluator or a list of metrics.
        **source: Stored as the record's ``source`` (e.g. scores).
    """
    metrics = getattr(evaluator, 'metrics', evaluator)
    for metric in metrics:
        if (
            isinstance(metric, HungarianIoUMetric)
            and metric.last_assignment is not None
        ):
            meta = metric.dataset_meta
            return mapping_record(
                metric.last_assignment,
                meta['classes'],
                meta['palette'],
                metric.extra_cluster_policy,
                **source,
            )
    return None
