# Copyright (c) mmuss contributors. All rights reserved.
"""Key conversion from the official MoCo v1/v2 checkpoints to mmseg's ResNet.

`MoCo <https://arxiv.org/abs/1911.05722>`_ (He et al., CVPR 2020) and
`MoCo v2 <https://arxiv.org/abs/2003.04297>`_ (Chen et al., 2020) release
their ImageNet ResNet-50 encoders (``moco_v1_200ep_pretrain.pth.tar``,
``moco_v2_800ep_pretrain.pth.tar``, ...) as full training checkpoints of the
facebookresearch/moco code::

    {'epoch': int, 'arch': 'resnet50', 'optimizer': {...},
     'state_dict': {'module.encoder_q.conv1.weight': ...,
                    'module.encoder_q.fc.0.weight': ...,  # v2 MLP head
                    'module.encoder_k.conv1.weight': ...,
                    'module.queue': ..., 'module.queue_ptr': ...}}

The query encoder is a torchvision ResNet, whose tensor names (``conv1``,
``bn1``, ``layer1.0.conv1``, ..., ``layer1.0.downsample.0/1``) are those of
mmseg's ``ResNet`` (``style='pytorch'``, no deep stem). Converting is
therefore selecting: keep the query encoder without its prefix, drop its
projection head (``fc``: one linear layer in v1, an MLP in v2), the momentum
(key) encoder, the queue and the optimizer state. No tensor is changed.
The ``module.`` prefix (written by ``DistributedDataParallel``) is optional.
"""

import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch
from mmseg.models.backbones import ResNet

from mmuss.utils.checkpoint_safety import (
    load_checkpoint_file,
    load_checkpoint_url,
)

#: A key of the query encoder: optional DDP prefix, then ``encoder_q.``.
QUERY_ENCODER_PATTERN = re.compile(r'^(module\.)?encoder_q\.')
#: The query encoder's projection head, trained for the contrastive loss
#: only (MoCo's linear evaluation drops it too).
QUERY_HEAD_PREFIX = 'fc.'
_EXAMPLE_KEYS = 8


def _describe_keys(keys: List[str]) -> str:
    """The first few keys and the count, for error messages."""
    shown = ', '.join(repr(k) for k in keys[:_EXAMPLE_KEYS])
    more = len(keys) - _EXAMPLE_KEYS
    return f'[{shown}{f", ... ({more} more)" if more > 0 else ""}]'


def moco_training_state(checkpoint: object, source: str) -> Mapping:
    """The ``state_dict`` entry of a loaded MoCo training checkpoint.

    Args:
        checkpoint: The object ``torch.load`` returned.
        source (str): Path or URL it came from (for the error message).

    Returns:
        Mapping: The model's state dict (query and key encoders, queue).

    Raises:
        ValueError: If ``checkpoint`` is not a dict with a ``state_dict``
            mapping; the message names ``source`` and what it holds.
    """
    if not isinstance(checkpoint, Mapping):
        raise ValueError(
            f'{source} is not a MoCo checkpoint: it holds a '
            f'{type(checkpoint).__name__}, not a dict with a "state_dict"'
        )
    state = checkpoint.get('state_dict')
    if not isinstance(state, Mapping):
        raise ValueError(
            f'{source} is not a MoCo checkpoint: no "state_dict" entry; '
            f'top-level keys: {_describe_keys([str(k) for k in checkpoint])}'
        )
    return state


def split_moco_state_dict(
    state: Mapping, source: str
) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Select the query encoder's backbone from a MoCo model state dict.

    Args:
        state (Mapping): The ``state_dict`` of a MoCo training checkpoint.
        source (str): Path or URL it came from (for the error message).

    Returns:
        tuple: ``(backbone, dropped)``: the query encoder's tensors under
        torchvision/mmseg ResNet names (prefix removed, projection head
        left out) and the original names of every tensor left out (key
        encoder, queue, queue pointer, query head).

    Raises:
        ValueError: If no key belongs to the query encoder (``encoder_q.``
            or ``module.encoder_q.``); the message names ``source`` and the
            keys found.
    """
    backbone = OrderedDict()
    dropped = []
    for key, value in state.items():
        match = QUERY_ENCODER_PATTERN.match(key)
        name = key[match.end() :] if match else None
        if name is None or name.startswith(QUERY_HEAD_PREFIX):
            dropped.append(key)
        elif isinstance(value, torch.Tensor):
            backbone[name] = value
        else:
            dropped.append(key)
    if not backbone:
        raise ValueError(
            f'{source} has no MoCo query-encoder weights '
            f'("module.encoder_q.*" or "encoder_q.*"); its state_dict '
            f'keys: {_describe_keys([str(k) for k in state])}'
        )
    return backbone, dropped


def read_moco_checkpoint(
    checkpoint: str,
) -> Tuple[Dict[str, torch.Tensor], List[str], Mapping]:
    """Load an official MoCo checkpoint (path or URL) safely and convert it.

    The file is read with ``weights_only=True``
    (:mod:`mmuss.utils.checkpoint_safety`); URLs are downloaded once into
    the torch hub cache.

    Args:
        checkpoint (str): Local path or HTTP(S) URL.

    Returns:
        tuple: ``(backbone, dropped, loaded)``: see
        :func:`split_moco_state_dict`; ``loaded`` is the whole checkpoint
        (for its ``arch`` and ``epoch``).
    """
    if checkpoint.startswith(('http://', 'https://')):
        loaded = load_checkpoint_url(checkpoint)
    else:
        loaded = load_checkpoint_file(checkpoint)
    state = moco_training_state(loaded, checkpoint)
    backbone, dropped = split_moco_state_dict(state, checkpoint)
    return backbone, dropped, loaded


def resnet_depth_of_arch(arch: object, source: str) -> int:
    """The mmseg ResNet depth of a MoCo ``arch`` entry (``'resnet50'``).

    Raises:
        ValueError: For an arch mmseg's ``ResNet`` cannot build (e.g.
            ``'resnext50_32x4d'``), naming ``source``.
    """
    match = re.fullmatch(r'resnet(\d+)', str(arch))
    if match is None or int(match.group(1)) not in ResNet.arch_settings:
        raise ValueError(
            f'{source} has arch={arch!r}; mmseg ResNet builds '
            f'resnet{{{",".join(map(str, sorted(ResNet.arch_settings)))}}}'
        )
    return int(match.group(1))


def compare_with_resnet(
    backbone: Mapping, depth: int = 50
) -> Tuple[List[str], List[str], List[str]]:
    """Compare converted tensors with the state of mmseg ``ResNet(depth)``.

    The ResNet is built on the meta device (no memory, no initialisation).

    Args:
        backbone (Mapping): Converted state dict.
        depth (int): ResNet depth. Defaults to 50.

    Returns:
        tuple[list[str], list[str], list[str]]: ``(missing, unexpected,
        mismatched)``: ResNet keys absent from ``backbone``, keys of
        ``backbone`` the ResNet does not have, and common keys whose shapes
        differ (``'key: (ckpt shape) vs (model shape)'``).
    """
    with torch.device('meta'):
        expected = ResNet(depth=depth).state_dict()
    missing = [k for k in expected if k not in backbone]
    unexpected = [k for k in backbone if k not in expected]
    mismatched = [
        f'{k}: {tuple(backbone[k].shape)} vs {tuple(expected[k].shape)}'
        for k in expected
        if k in backbone and backbone[k].shape != expected[k].shape
    ]
    return missing, unexpected, mismatched


def summarise_dropped_keys(dropped: List[str]) -> Dict[str, int]:
    """Count dropped keys by their part of the MoCo model.

    ``module.encoder_k.layer1.0.conv1.weight`` counts under ``encoder_k``,
    ``module.encoder_q.fc.0.weight`` under ``encoder_q.fc``,
    ``module.queue`` under ``queue``.
    """
    counts = {}
    for key in dropped:
        parts = re.sub(r'^module\.', '', key).split('.')
        group = '.'.join(parts[:2]) if parts[0] == 'encoder_q' else parts[0]
        counts[group] = counts.get(group, 0) + 1
    return counts
