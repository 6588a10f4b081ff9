# Copyright (c) mmuss contributors. All rights reserved.
"""Key conversion from the official DINO / DINOv2 releases to mmpretrain.

The official checkpoints (``dino_deitsmall8_pretrain.pth``,
``dino_vitbase8_pretrain.pth``, ``dinov2_vits14_pretrain.pth``,
``dinov2_vitb14_pretrain.pth``, ...) store a flat state dict in the layout of
the DINO code (shared by timm). mmpretrain's ``VisionTransformer`` names the
same tensors differently. The functions here detect the layout of a loaded
checkpoint and rename its keys; nothing is copied numerically.
"""

import argparse
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch

from mmuss.utils.checkpoint_safety import (
    load_checkpoint_file,
    load_checkpoint_url,
)

# (pattern, replacement) applied in order to every official key.
_OFFICIAL_TO_MMPRETRAIN = (
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'^blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'^blocks\.(\d+)\.attn\.', r'layers.\1.attn.'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'^blocks\.(\d+)\.mlp\.w12\.', r'layers.\1.ffn.w12.'),
    (r'^blocks\.(\d+)\.mlp\.w3\.', r'layers.\1.ffn.w3.'),
    (r'^blocks\.(\d+)\.ls1\.gamma$', r'layers.\1.attn.gamma1.weight'),
    (r'^blocks\.(\d+)\.ls2\.gamma$', r'layers.\1.ffn.gamma2.weight'),
    (r'^norm\.', 'ln1.'),
)
# Tensors of the releases that play no part in dense feature extraction.
_DROPPED_PREFIXES = ('mask_token', 'head.', 'fc_norm.')
_TRAINING_WRAPPER_PREFIXES = ('module.', 'backbone.')


def unwrap_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Return the backbone state dict stored in a loaded checkpoint.

    Handles the flat release files, full DINO training checkpoints (weights
    under ``'teacher'``, keys prefixed with ``module.``/``backbone.``),
    ``{'model': ...}`` wrappers and mmpretrain/mmengine checkpoints
    (``{'state_dict': ...}`` with ``backbone.`` prefixes).

    Args:
        checkpoint (Mapping): The object returned by ``torch.load``.

    Returns:
        dict[str, Tensor]: Keys without training wrappers' prefixes.
    """
    for key in ('teacher', 'state_dict', 'model'):
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            checkpoint = checkpoint[key]
            break
    state_dict = OrderedDict()
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            continue
        if any(key.startswith(p) for p in ('head.', 'neck.', 'data_prepro')):
            continue
        stripped = True
        while stripped:
            stripped = False
            for prefix in _TRAINING_WRAPPER_PREFIXES:
                if key.startswith(prefix):
                    key = key[len(prefix) :]
                    stripped = True
        state_dict[key] = value
    return state_dict


def is_official_dino_layout(state_dict: Mapping) -> bool:
    """Whether the keys follow the official DINO/DINOv2 (timm) naming."""
    return any(k.startswith('blocks.') for k in state_dict)


def convert_dino_to_mmpretrain(state_dict: Mapping) -> Dict[str, torch.Tensor]:
    """Rename official DINO / DINOv2 keys to mmpretrain's ViT names.

    Args:
        state_dict (Mapping): A flat state dict in the official layout
            (see :func:`unwrap_state_dict`).

    Returns:
        dict[str, Tensor]: The same tensors under mmpretrain names, without
        the tensors unused by a feature extractor (``mask_token``, heads).

    Raises:
        ValueError: For DINOv2 checkpoints with register tokens, which
            mmpretrain's ViT cannot represent.
    """
    if 'register_tokens' in state_dict:
        raise ValueError(
            'the checkpoint has DINOv2 register tokens (a "_reg" model); '
            'mmpretrain VisionTransformer has no register tokens, use a '
            'release without registers'
        )
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith(_DROPPED_PREFIXES):
            continue
        new_key = key
        for pattern, replacement in _OFFICIAL_TO_MMPRETRAIN:
            new_key, count = re.subn(pattern, replacement, new_key)
            if count:
                break
        converted[new_key] = value
    return converted


def load_dino_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Turn any supported loaded checkpoint into an mmpretrain ViT state
    dict (no prefix).

    Args:
        checkpoint (Mapping): The object returned by ``torch.load`` on an
            official release, a DINO training checkpoint or an
            mmpretrain-format file.

    Returns:
        dict[str, Tensor]: State dict for ``mmpretrain.VisionTransformer``.
    """
    state_dict = unwrap_state_dict(checkpoint)
    if is_official_dino_layout(state_dict):
        state_dict = convert_dino_to_mmpretrain(state_dict)
    return state_dict


def read_dino_checkpoint(checkpoint: str) -> Dict[str, torch.Tensor]:
    """Load a DINO/DINOv2 checkpoint (local path or URL) safely and return
    an mmpretrain ViT state dict.

    Loading uses ``weights_only=True``; full DINO training checkpoints also
    pickle their ``argparse.Namespace``, which is allowed for this load only.

    Args:
        checkpoint (str): Path or HTTP(S) URL.

    Returns:
        dict[str, Tensor]: See :func:`load_dino_state_dict`.
    """
    with torch.serialization.safe_globals([argparse.Namespace]):
        if checkpoint.startswith(('http://', 'https://')):
            loaded = load_checkpoint_url(checkpoint)
        else:
            loaded = load_checkpoint_file(checkpoint)
    return load_dino_state_dict(loaded)
