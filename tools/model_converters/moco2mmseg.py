# Copyright (c) mmuss contributors. All rights reserved.
"""Convert an official MoCo v1/v2 checkpoint to mmseg's ResNet keys.

    python tools/model_converters/moco2mmseg.py SRC DST [--depth 50]
        [--allow-mismatch] [--force]

SRC is a local path or URL of a facebookresearch/moco training checkpoint
(``moco_v2_800ep_pretrain.pth.tar``, ``moco_v1_200ep_pretrain.pth.tar``),
read with ``weights_only=True``. DST receives ``{'state_dict': {'conv1.weight':
tensor, ...}, 'meta': {...}}``: the query encoder without its projection
head, the key encoder, the queue or the optimizer state, under the keys of
mmseg's ``ResNet`` (no prefix), loadable with ``init_cfg=dict(
type='Pretrained', checkpoint=DST)``. ``MoCoResNet`` reads SRC directly, so
converting is optional.

The dropped keys are reported by part, and the converted keys are compared
with ``ResNet(depth)`` (depth from the checkpoint's ``arch``, else 50):
missing, unexpected or wrongly shaped keys stop the conversion (nothing is
written) unless --allow-mismatch. DST is written atomically and records
SRC's SHA-256 (the URL for a URL); a rerun on an unchanged SRC skips the
conversion unless --force.
"""

import argparse
import hashlib
import io
import os.path as osp
from typing import Optional

import torch

from mmuss.models.utils.moco_checkpoint import (
    compare_with_resnet,
    read_moco_checkpoint,
    resnet_depth_of_arch,
    summarise_dropped_keys,
)
from mmuss.utils.atomic_io import atomic_path
from mmuss.utils.checkpoint_safety import load_checkpoint_file

_HASH_CHUNK = 1 << 22


def source_id(src: str) -> str:
    """The URL of a URL source, else ``'sha256:<hex>'`` of the file."""
    if src.startswith(('http://', 'https://')):
        return src
    digest = hashlib.sha256()
    with open(src, 'rb') as file:
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


def mismatch_report(
    src: str, depth: int, missing: list, unexpected: list, mismatched: list
) -> Optional[str]:
    """A message listing the differences from ``ResNet(depth)``, or None."""
    if not (missing or unexpected or mismatched):
        return None
    return (
        f'{src} does not match mmseg ResNet(depth={depth}): '
        f'missing keys {missing}, unexpected keys {unexpected}, '
        f'shape mismatches {mismatched}'
    )


def convert(
    src: str,
    dst: str,
    depth: Optional[int] = None,
    allow_mismatch: bool = False,
    force: bool = False,
) -> dict:
    """Convert ``src`` into ``dst``; return a report.

    Args:
        src (str): Official MoCo checkpoint (path or URL).
        dst (str): Output path.
        depth (int, optional): ResNet depth; defaults to the checkpoint's
            ``arch`` (``'resnet50'`` -> 50), else 50.
        allow_mismatch (bool): Write even when keys are missing, unexpected
            or wrongly shaped. Defaults to False.
        force (bool): Convert even when ``dst`` already holds the
            conversion of this ``src``. Defaults to False.

    Returns:
        dict: ``skipped`` (bool) and, when converted, ``kept`` (tensor
        count), ``dropped`` (count per MoCo part), ``missing``,
        ``unexpected`` and ``mismatched`` (key lists).

    Raises:
        ValueError: If ``src`` is not a MoCo checkpoint, has an arch mmseg's
            ResNet cannot build, or (without ``allow_mismatch``) does not
            match ``ResNet(depth)``; nothing is written then.
    """
    identity = source_id(src)
    if not force and is_converted_from(dst, identity):
        return dict(skipped=True)
    backbone, dropped, loaded = read_moco_checkpoint(src)
    if depth is None:
        arch = loaded.get('arch')
        depth = 50 if arch is None else resnet_depth_of_arch(arch, src)
    missing, unexpected, mismatched = compare_with_resnet(backbone, depth)
    report = mismatch_report(src, depth, missing, unexpected, mismatched)
    if report and not allow_mismatch:
        raise ValueError(f'{report}; nothing written (see --allow-mismatch)')
    dropped_summary = summarise_dropped_keys(dropped)
    # a URL is kept, a local path only by its name (no machine paths)
    converted_from = src if identity == src else osp.basename(src)
    meta = dict(
        converted_from=converted_from,
        source_id=identity,
        arch=str(loaded.get('arch', f'resnet{depth}')),
        epoch=loaded.get('epoch'),
        dropped=dropped_summary,
    )
    buffer = io.BytesIO()
    torch.save(dict(state_dict=backbone, meta=meta), buffer)
    with atomic_path(dst) as tmp_path:
        with open(tmp_path, 'wb') as file:
            file.write(buffer.getvalue())
    return dict(
        skipped=False,
        kept=len(backbone),
        dropped=dropped_summary,
        missing=missing,
        unexpected=unexpected,
        mismatched=mismatched,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official MoCo checkpoint (path or URL)')
    parser.add_argument('dst', help='output path')
    parser.add_argument(
        '--depth', type=int, help="ResNet depth (default: from 'arch', or 50)"
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
        args.src, args.dst, args.depth, args.allow_mismatch, args.force
    )
    if report['skipped']:
        print(f'{args.dst} is already the conversion of {args.src}; skipped')
        return
    print(f'dropped (by part): {report["dropped"]}')
    for name in ('missing', 'unexpected', 'mismatched'):
        if report[name]:
            print(f'{name} keys: {report[name]}')
    print(f'wrote {report["kept"]} tensors to {args.dst}')


if __name__ == '__main__':
    main()
