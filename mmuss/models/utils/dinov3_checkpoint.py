# Copyright (c) mmuss contributors. All rights reserved.
"""Reading DINOv3 ViT checkpoints in the two official layouts.

`DINOv3 <https://arxiv.org/abs/2508.10104>`_ weights are released in two
layouts, both read here and turned into one: the key layout of the files
that ``transformers``' ``DINOv3ViTModel.save_pretrained`` writes (the
"Hugging Face layout", ``layer.N.attention.q_proj.weight``), which is the
model :class:`~mmuss.models.backbones.DINOv3VisionTransformer` wraps.

- **Meta layout**: the ``.pth`` files of facebookresearch/dinov3
  (``dinov3_vits16_pretrain_lvd1689m-08c60483.pth``, ...), a flat state dict
  of ``dinov3.models.vision_transformer.DinoVisionTransformer``:
  ``cls_token``, ``storage_tokens`` (the 4 registers), ``mask_token``,
  ``patch_embed.proj``, ``rope_embed.periods``, ``blocks.N.{norm1, attn.qkv,
  attn.proj, ls1.gamma, norm2, mlp.fc1/fc2 or mlp.w1/w2/w3, ls2.gamma}`` and
  ``norm``. The fused ``qkv`` is split into ``q/k/v_proj``; its bias is
  multiplied by ``bias_mask`` first, as the official ``LinearKMaskedBias``
  does at run time (the key part of the mask is 0).
- **Hugging Face layout**: ``model.safetensors`` (or a folder holding it,
  or ``pytorch_model.bin``) of ``facebook/dinov3-vits16-pretrain-lvd1689m``
  and its siblings: taken as they are.

Tensors used by no patch token (``mask_token`` aside, which the model has)
are dropped and reported: the classification ``head``, ``cls_norm`` and
``local_cls_norm`` (norms of the CLS/register tokens only), and
``rope_embed.periods`` once checked against the model's RoPE base.
"""

import json
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch

from mmuss.utils.checkpoint_safety import (
    load_checkpoint_file,
    load_checkpoint_url,
)

StateDict = Dict[str, torch.Tensor]

META_LAYOUT = 'meta'
HF_LAYOUT = 'hf'
HF_WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin')
HF_SHARD_INDEX = 'model.safetensors.index.json'

# (pattern, replacement): Meta module names -> Hugging Face names. The
# fused qkv, the RoPE periods and the bias masks are handled apart.
_META_TO_HF = (
    (r'^cls_token$', 'embeddings.cls_token'),
    (r'^storage_tokens$', 'embeddings.register_tokens'),
    (r'^mask_token$', 'embeddings.mask_token'),
    (r'^patch_embed\.proj\.', 'embeddings.patch_embeddings.'),
    (r'^blocks\.(\d+)\.norm1\.', r'layer.\1.norm1.'),
    (r'^blocks\.(\d+)\.norm2\.', r'layer.\1.norm2.'),
    (r'^blocks\.(\d+)\.attn\.proj\.', r'layer.\1.attention.o_proj.'),
    (r'^blocks\.(\d+)\.ls1\.gamma$', r'layer.\1.layer_scale1.lambda1'),
    (r'^blocks\.(\d+)\.ls2\.gamma$', r'layer.\1.layer_scale2.lambda1'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layer.\1.mlp.up_proj.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layer.\1.mlp.down_proj.'),
    # SwiGLU (ViT-S+/16, ViT-H+/16): silu(w1 x) * (w2 x), then w3
    (r'^blocks\.(\d+)\.mlp\.w1\.', r'layer.\1.mlp.gate_proj.'),
    (r'^blocks\.(\d+)\.mlp\.w2\.', r'layer.\1.mlp.up_proj.'),
    (r'^blocks\.(\d+)\.mlp\.w3\.', r'layer.\1.mlp.down_proj.'),
    (r'^norm\.', 'norm.'),
)
_QKV = re.compile(r'^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$')
_META_DROPPED = re.compile(
    r'^(head\.|cls_norm\.|local_cls_norm\.|rope_embed\.periods$'
    r'|blocks\.\d+\.attn\.qkv\.bias_mask$)'
)
_WRAPPER_PREFIXES = ('module.', 'backbone.', 'teacher.')


def unwrap_dinov3_state_dict(checkpoint: Mapping) -> StateDict:
    """The flat tensor dict of a loaded checkpoint: ``{'state_dict': ...}``
    / ``{'model': ...}`` / ``{'teacher': ...}`` wrappers and the
    ``module.``/``backbone.`` prefixes of training wrappers removed (the
    official hub loader strips the same prefixes)."""
    for key in ('state_dict', 'model', 'teacher'):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    state_dict = OrderedDict()
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            continue
        while key.startswith(_WRAPPER_PREFIXES):
            key = key.split('.', 1)[1]
        state_dict[key] = value
    return state_dict


def dinov3_checkpoint_layout(state_dict: Mapping, source: str) -> str:
    """``'meta'`` or ``'hf'``: which official layout the keys follow.

    Raises:
        ValueError: Naming ``source`` and a few keys, for any other layout
            (e.g. a DINOv2 or a timm-converted file).
    """
    if any(_QKV.match(k) for k in state_dict) or 'storage_tokens' in (
        state_dict
    ):
        return META_LAYOUT
    if 'embeddings.patch_embeddings.weight' in state_dict:
        return HF_LAYOUT
    raise ValueError(
        f'{source} is not a DINOv3 ViT checkpoint in the Meta layout '
        '(blocks.N.attn.qkv.weight, storage_tokens) or the Hugging Face '
        '(embeddings.patch_embeddings.weight, layer.N...) layout; first '
        f'keys: {list(state_dict)[:5]}'
    )


def rope_periods(head_dims: int, base: float) -> torch.Tensor:
    """The RoPE periods of the official model: ``base ** (4 i / D_head)``
    for ``i < D_head / 4`` (float32), stored as ``rope_embed.periods`` in
    the Meta files and recomputed from ``rope_theta`` by transformers."""
    exponents = torch.arange(head_dims // 4, dtype=torch.float32)
    return base ** (2 * exponents / (head_dims // 2))


def check_rope_periods(
    periods: torch.Tensor,
    base: float,
    source: str,
    head_dims: int | None = None,
) -> None:
    """Check a Meta file's ``rope_embed.periods`` against the RoPE base and
    head width of the model it is loaded into.

    The periods are the only trace of the head count in the weights (the
    fused ``qkv`` has the same shape for any count), so this also catches a
    model built with the wrong ``num_heads``.

    Args:
        periods (Tensor): (D_head / 4,) stored periods.
        base (float): RoPE base of the model.
        source (str): File name, for the message.
        head_dims (int, optional): Head width of the model; None accepts
            the width the periods imply.

    Raises:
        ValueError: When they differ, naming ``source``.
    """
    head_dims = head_dims or periods.numel() * 4
    expected = rope_periods(head_dims, base)
    if periods.shape != expected.shape or not torch.allclose(
        periods.float(), expected, rtol=1e-4
    ):
        raise ValueError(
            f'{source}: rope_embed.periods {periods.tolist()} differ from '
            f'those of RoPE base {base} with head width {head_dims} '
            f'({expected.tolist()}); build the backbone with the '
            "checkpoint's arch (num_heads) and rope_base"
        )


def split_qkv_weight(weight: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """The query, key and value rows of a fused ``qkv`` projection."""
    return tuple(weight.chunk(3, dim=0))


def masked_qkv_bias(
    bias: torch.Tensor, bias_mask: torch.Tensor | None, key: str
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The query and value biases of a fused ``qkv`` bias.

    The official ``LinearKMaskedBias`` uses ``bias * bias_mask`` (mask 1, 0,
    1 over the query, key and value thirds), so the key bias is zero
    whatever the stored ``bias`` holds; transformers' model has no key bias.

    Args:
        bias (Tensor): (3C,) stored bias.
        bias_mask (Tensor, optional): (3C,) stored mask; None for a plain
            ``nn.Linear`` bias.
        key (str): The bias key, for error messages.

    Returns:
        tuple[Tensor, Tensor]: Query and value biases, (C,) each.

    Raises:
        ValueError: When the effective key bias is not zero or not finite
            (an uninitialised mask is NaN), which the model cannot
            represent.
    """
    if bias_mask is not None:
        bias = bias * bias_mask.to(bias.dtype)
    query, key_bias, value = bias.chunk(3)
    if not torch.isfinite(bias).all() or key_bias.abs().max() > 0:
        raise ValueError(
            f'{key}: the effective key bias (bias * bias_mask) must be 0 '
            'and every bias finite; got max |key bias| '
            f'{key_bias.abs().max().item()}'
        )
    return query, value


def rename_meta_key(key: str) -> str:
    """The Hugging Face name of a Meta key (unchanged when unknown, so that
    it is reported as unexpected)."""
    for pattern, replacement in _META_TO_HF:
        new_key, count = re.subn(pattern, replacement, key)
        if count:
            return new_key
    return key


def convert_meta_to_hf(
    state_dict: Mapping,
    rope_base: float,
    source: str,
    head_dims: int | None = None,
) -> Tuple[StateDict, List[str]]:
    """Convert a Meta-layout DINOv3 state dict to the Hugging Face layout.

    Args:
        state_dict (Mapping): Flat Meta state dict.
        rope_base (float): RoPE base of the target model, checked against
            ``rope_embed.periods`` when present.
        source (str): Name of the file, for error messages.
        head_dims (int, optional): Head width of the target model, checked
            likewise (see :func:`check_rope_periods`).

    Returns:
        tuple[dict, list[str]]: The converted tensors and the dropped keys.
    """
    converted, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        qkv = _QKV.match(key)
        if qkv:
            block, kind = qkv.groups()
            prefix = f'layer.{block}.attention'
            if kind == 'weight':
                parts = zip('qkv', split_qkv_weight(value))
            else:
                mask = state_dict.get(f'{key}_mask')
                parts = zip('qv', masked_qkv_bias(value, mask, key))
            for name, tensor in parts:
                converted[f'{prefix}.{name}_proj.{kind}'] = tensor
            continue
        if key == 'rope_embed.periods':
            check_rope_periods(value, rope_base, source, head_dims)
        if _META_DROPPED.match(key):
            dropped.append(key)
            continue
        if key == 'mask_token':
            value = value.reshape(1, 1, -1)
        converted[rename_meta_key(key)] = value
    return converted, dropped


def drop_hf_unused(state_dict: Mapping) -> Tuple[StateDict, List[str]]:
    """Drop the Hugging Face tensors no patch token uses (none in the
    ``DINOv3ViTModel`` releases; a task head if a file has one)."""
    kept, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith(('embeddings.', 'layer.', 'norm.')):
            kept[key] = value
        else:
            dropped.append(key)
    return kept, dropped


def hf_weight_file(path: str) -> str:
    """The weight file of a Hugging Face model folder (``path`` itself for
    a file).

    Raises:
        FileNotFoundError: When the folder holds none of
            ``model.safetensors``, its shard index or ``pytorch_model.bin``.
    """
    if not osp.isdir(path):
        return path
    for name in (HF_WEIGHT_FILES[0], HF_SHARD_INDEX, HF_WEIGHT_FILES[1]):
        if osp.isfile(osp.join(path, name)):
            return osp.join(path, name)
    raise FileNotFoundError(
        f'{path} holds no {" / ".join(HF_WEIGHT_FILES)} or {HF_SHARD_INDEX}'
    )


def read_safetensors(path: str) -> StateDict:
    """Tensors of a ``.safetensors`` file or of the shards listed by a
    ``model.safetensors.index.json`` (no pickle involved)."""
    from safetensors.torch import load_file

    if not path.endswith('.json'):
        return load_file(path)
    with open(path) as file:
        shards = sorted(set(json.load(file)['weight_map'].values()))
    state_dict = OrderedDict()
    for shard in shards:
        state_dict.update(load_file(osp.join(osp.dirname(path), shard)))
    return state_dict


def load_raw_dinov3_file(path: str) -> StateDict:
    """The flat tensors of a checkpoint file, folder or URL: safetensors
    without pickle, anything else with ``weights_only=True``."""
    if path.startswith(('http://', 'https://')):
        return unwrap_dinov3_state_dict(load_checkpoint_url(path))
    path = hf_weight_file(osp.expanduser(path))
    if path.endswith(('.safetensors', '.json')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint file {path} does not exist')
        return unwrap_dinov3_state_dict(read_safetensors(path))
    return unwrap_dinov3_state_dict(load_checkpoint_file(path))


def read_dinov3_checkpoint(
    path: str, rope_base: float = 100.0, head_dims: int | None = None
) -> Tuple[StateDict, List[str], str]:
    """Read a DINOv3 ViT checkpoint of either official layout (or an
    mmuss-converted one) as a Hugging Face-layout state dict.

    Args:
        path (str): A Meta ``.pth`` file or URL, a Hugging Face
            ``model.safetensors`` / ``pytorch_model.bin`` file or model
            folder, or a file written by
            ``tools/model_converters/dinov3_to_mmuss.py``.
        rope_base (float): RoPE base the Meta ``rope_embed.periods`` must
            match. Defaults to 100 (every release).
        head_dims (int, optional): Head width they must match; None
            accepts any.

    Returns:
        tuple[dict, list[str], str]: The state dict (``embeddings.*``,
        ``layer.N.*``, ``norm.*``), the dropped keys and the source layout
        (``'meta'`` or ``'hf'``).
    """
    state_dict = load_raw_dinov3_file(path)
    layout = dinov3_checkpoint_layout(state_dict, path)
    if layout == META_LAYOUT:
        state_dict, dropped = convert_meta_to_hf(
            state_dict, rope_base, path, head_dims
        )
    else:
        state_dict, dropped = drop_hf_unused(state_dict)
    return state_dict, dropped, layout


def hf_to_module_keys(
    state_dict: Mapping, module_keys: List[str]
) -> StateDict:
    """Rename Hugging Face file keys to the installed ``DINOv3ViTModel``'s
    parameter names: transformers 5 keeps the blocks under ``model.layer``
    and maps ``layer.N`` to it when it loads or saves files; 4.x names them
    ``layer.N`` in both."""
    if not any(k.startswith('model.layer.') for k in module_keys):
        return OrderedDict(state_dict)
    return OrderedDict(
        (f'model.{k}' if k.startswith('layer.') else k, v)
        for k, v in state_dict.items()
    )
