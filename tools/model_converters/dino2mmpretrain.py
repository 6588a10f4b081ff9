# Copyright (c) mmuss contributors. All rights reserved.
"""Convert an official DINO / DINOv2 checkpoint to mmpretrain's format.

    python tools/model_converters/dino2mmpretrain.py SRC DST

SRC is a local path or URL of an official release
(``dino_deitsmall8_pretrain.pth``, ``dinov2_vits14_pretrain.pth``, ...) or a
full DINO training checkpoint (its teacher is converted). DST receives
``{'state_dict': {'backbone.<key>': tensor}, 'meta': {...}}`` loadable by
mmpretrain's ``VisionTransformer`` with ``init_cfg=dict(type='Pretrained',
checkpoint=DST, prefix='backbone.')``. mmuss's ``DINOVisionTransformer``
reads the release files directly, so converting is optional.
The file is written atomically (temporary file, then rename).
"""

import argparse
import os
import os.path as osp

import torch

from mmuss.models.utils.dino_checkpoint import read_dino_checkpoint


def convert(src: str, dst: str) -> int:
    """Convert ``src`` and write ``dst``; return the number of tensors."""
    state_dict = {
        f'backbone.{key}': value
        for key, value in read_dino_checkpoint(src).items()
    }
    if not state_dict:
        raise ValueError(f'no tensor found in {src}')
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp_path = f'{dst}.tmp'
    torch.save(
        dict(state_dict=state_dict, meta=dict(converted_from=src)), tmp_path
    )
    os.replace(tmp_path, dst)
    return len(state_dict)


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Convert an official DINO/DINOv2 checkpoint to '
        'mmpretrain format'
    )
    parser.add_argument('src', help='official checkpoint (path or URL)')
    parser.add_argument('dst', help='output path')
    args = parser.parse_args()
    count = convert(args.src, args.dst)
    print(f'wrote {count} tensors to {args.dst}')


if __name__ == '__main__':
    main()
