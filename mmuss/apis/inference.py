# Copyright (c) mmuss contributors. All rights reserved.
import os.path as osp
from pathlib import Path

from mmengine.config import Config
from mmengine.logging import print_log
from mmseg.apis import init_model

from .cluster_mapping_io import load_mapping_json, mapping_json_path


def init_uss_model(
    config: str | Path | Config,
    checkpoint: str | None = None,
    device: str = 'cpu',
    cfg_options: dict | None = None,
    mapping: str | None = None,
):
    """``mmseg.apis.init_model`` plus the cluster-to-class mapping.

    The mapping comes from ``mapping`` (a JSON file) if given, else from
    the checkpoint, else from the JSON next to the checkpoint
    (:func:`mapping_json_path`); without any, the model names clusters
    ``'cluster k'``.

    Args:
        config: Config file or object.
        checkpoint (str, optional): Checkpoint file.
        device (str): Torch device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Config overrides.
        mapping (str, optional): A mapping JSON to apply.

    Returns:
        nn.Module: The segmentor, in eval mode.
    """
    model = init_model(config, checkpoint, device, cfg_options)
    if not hasattr(model, 'cluster_mapping'):
        raise TypeError(
            f'{type(model).__name__} predicts no clusters; cluster '
            'mappings apply to UnsupervisedEncoderDecoder models'
        )
    if mapping is None and checkpoint is not None:
        beside = mapping_json_path(checkpoint)
        if not model.cluster_mapping.is_set and osp.isfile(beside):
            mapping = beside
    if mapping is not None:
        record = load_mapping_json(mapping, model.num_clusters)
        model.cluster_mapping.set_record(record)
        print_log(f'cluster-to-class mapping from {mapping}', 'current')
    return model
