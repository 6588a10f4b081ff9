# Copyright (c) mmuss contributors. All rights reserved.
"""Convert an official DINOv3 ViT checkpoint to mmuss's DINOv3 format.

    python tools/model_converters/dinov3_to_mmuss.py SRC DST [--arch ARCH]
        [--allow-mismatch] [--force]

SRC is a Meta release (``dinov3_vits16_pretrain_lvd1689m-08c60483.pth``,
path or URL, read with ``weights_only=True``) or a Hugging Face release
(``model.safetensors``, ``pytorch_model.bin`` or the model folder of
``facebook/dinov3-vits16-pretrain-lvd1689m`` and its siblings). DST receives
``{'state_dict': {...}, 'meta': {...}}`` with the tensors in the key layout
of transformers' ``DINOv3ViTModel`` files, which ``DINOv3VisionTransformer``
loads with ``init_cfg=dict(type='Pretrained', checkpoint=DST)``. The backbone
reads SRC directly too, so converting is optional: it checks a download once
and stores one format.

ARCH is ``small``, ``small-plus``, ``base``, ``large`` (or a JSON dict of
``DINOv3VisionTransformer``'s arch settings); by default it is the release
whose width, depth and FFN type match SRC. The converted keys are compared
with that model: missing, unexpected or mis-shaped keys stop the conversion
(nothing is written) unless --allow-mismatch. DST is written atomically and
records SRC's SHA-256 (the URL for a URL); a rerun on an unchanged SRC skips
the conversion unless --force.
"""

import argparse
import hashlib
import io
import json
import os.path as osp
import re
from typing import Mapping, Optional, Union

import torch

from mmuss.models.backbones.dinov3_vision_transformer import (
    DINOV3_ARCHS,
    DINOv3VisionTransformer,
    resolve_dinov3_arch,
)
from mmuss.models.utils.dinov3_checkpoint import (
    hf_to_module_keys,
    hf_weight_file,
    read_dinov3_checkpoint,
)
from mmuss.utils.atomic_io import atomic_path
from mmuss.utils.checkpoint_safety import load_checkpoint_file

_HASH_CHUNK = 1 << 22
OFFICIAL_ARCHS = ('small', 'small-plus', 'base', 'large')
_BLOCK = re.compile(r'^layer\.(\d+)\.')


def source_id(src: str) -> str:
    """The URL of a URL source, else ``'sha256:<hex>'`` of its weight
    file (the weight file of a Hugging Face folder)."""
    if src.startswith(('http://', 'https://')):
        return src
    digest = hashlib.sha256()
    with open(hf_weight_file(src), 'rb') as file:
        for chunk in iter(lambda: file.read(_HASH_CHUNK), b''):
            digest.update(chunk)
    return f'sha256:{digest.hexdigest()}'


def is_converted_from(dst: str, identity: str) -> bool:
    """Whether ``dst`` is a complete conversion of the source ``identity``
    (a file that does not load counts as absent)."""
    if not osp.isfile(dst):
        return False
    try:
        meta = load_checkpoint_file(dst).get('meta', {})
    except Exception:
        return False
    return meta.get('source_id') == identity


def infer_official_arch(state_dict: Mapping, src: str) -> str:
    """The release whose width, depth and FFN type match a Hugging
    Face-layout state dict.

    Raises:
        ValueError: When none does (a custom model: pass --arch).
    """
    width = state_dict['embeddings.cls_token'].shape[-1]
    blocks = {int(m.group(1)) for k in state_dict if (m := _BLOCK.match(k))}
    ffn = (
        'swiglu'
        if any(k.endswith('mlp.gate_proj.weight') for k in state_dict)
        else 'mlp'
    )
    for name in OFFICIAL_ARCHS:
        arch = DINOV3_ARCHS[name]
        if (arch['embed_dims'], arch['num_layers'], arch['ffn']) == (
            width,
            len(blocks),
            ffn,
        ):
            return name
    raise ValueError(
        f'{src}: no DINOv3 release has width {width}, {len(blocks)} blocks '
        f'and a {ffn} FFN; pass --arch (a name or a JSON dict)'
    )


def parse_arch(arch: Optional[str]) -> Union[str, dict, None]:
    """An arch name, a JSON dict (``'{"embed_dims": 32, ...}'``) or None."""
    if arch is not None and arch.lstrip().startswith('{'):
        return json.loads(arch)
    return arch


def convert(
    src: str,
    dst: str,
    arch: Union[str, dict, None] = None,
    allow_mismatch: bool = False,
    force: bool = False,
) -> dict:
    """Convert ``src`` into ``dst``; return a report.

    Args:
        src (str): Official DINOv3 checkpoint (path, folder or URL).
        dst (str): Output path.
        arch (str | dict, optional): Target arch; None infers the release.
        allow_mismatch (bool): Write even when keys are missing,
            unexpected or mis-shaped. Defaults to False.
        force (bool): Convert even when ``dst`` already holds the
            conversion of this ``src``. Defaults to False.

    Returns:
        dict: ``skipped`` (bool) and, when converted, ``kept`` (tensor
        count), ``arch``, ``layout``, ``dropped``, ``missing``,
        ``unexpected`` and ``mismatched`` (key lists).

    Raises:
        ValueError: If ``src`` is no DINOv3 ViT checkpoint or (without
            ``allow_mismatch``) does not match the arch; nothing is
            written then.
    """
    identity = source_id(src)
    if not force and is_converted_from(dst, identity):
        return dict(skipped=True)
    head_dims = None
    if arch is not None:
        settings = resolve_dinov3_arch(arch)
        head_dims = settings['embed_dims'] // settings['num_heads']
    state_dict, dropped, layout = read_dinov3_checkpoint(
        src, head_dims=head_dims
    )
    if arch is None:
        arch = infer_official_arch(state_dict, src)
    with torch.device('meta'):
        model = DINOv3VisionTransformer(arch=arch)
    own_keys = list(model.vit.state_dict())
    report = model.match_state_dict(hf_to_module_keys(state_dict, own_keys))
    if any(report.values()) and not allow_mismatch:
        problems = '; '.join(f'{k} keys {v}' for k, v in report.items() if v)
        raise ValueError(
            f'{src} does not match DINOv3 arch {arch}: {problems}; nothing '
            'written (see --allow-mismatch)'
        )
    # a URL is kept, a local path only by its name (no machine paths)
    converted_from = src if identity == src else osp.basename(src)
    meta = dict(
        converted_from=converted_from,
        source_id=identity,
        source_layout=layout,
        arch=model.arch_settings,
        dropped=dropped,
    )
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(state_dict), meta=meta), buffer)
    with atomic_path(dst) as tmp_path:
        with open(tmp_path, 'wb') as file:
            file.write(buffer.getvalue())
    return dict(
        skipped=False,
        kept=len(state_dict),
        arch=arch,
        layout=layout,
        dropped=dropped,
        **report,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src', help='Meta .pth (path or URL) or Hugging Face file/folder'
    )
    parser.add_argument('dst', help='output path')
    parser.add_argument(
        '--arch',
        help='small, small-plus, base, large or a JSON dict (default: '
        'inferred from the checkpoint)',
    )
    parser.add_argument(
        '--allow-mismatch',
        action='store_true',
        help='write even if keys are missing, unexpected or mis-shaped',
    )
    parser.add_argument(
        '--force', action='store_true', help='reconvert an up-to-date DST'
    )
    args = parser.parse_args()
    report = convert(
        args.src,
        args.dst,
        parse_arch(args.arch),
        args.allow_mismatch,
        args.force,
    )
    if report['skipped']:
        print(f'{args.dst} is already the conversion of {args.src}; skipped')
        return
    print(f'{report["layout"]} layout, arch {report["arch"]}')
    print(f'dropped: {report["dropped"]}')
    for name in ('missing', 'unexpected', 'mismatched'):
        if report[name]:
            print(f'{name} keys: {report[name]}')
    print(f'wrote {report["kept"]} tensors to {args.dst}')


if __name__ == '__main__':
    main()
