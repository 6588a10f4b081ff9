# Copyright (c) mmuss contributors. All rights reserved.
"""Extract the backbone of an mmpretrain self-supervised checkpoint.

    python tools/model_converters/selfsup2backbone.py SRC DST [--fp16]

SRC is a runner checkpoint of an mmpretrain self-supervised algorithm
(DenseCL, MoCoV3, MAE, ...; e.g. the demo's
configs/selfsup/densecl_tiny-vit-p8_synthetic.py). DST receives
``{'state_dict': {'backbone.<key>': tensor}}``: the online encoder only
(no momentum encoder, necks, heads, queues or optimizer state), in
mmpretrain's ViT key layout, which ``DINOVisionTransformer`` (and
mmpretrain's ``VisionTransformer`` with ``prefix='backbone.'``) load. The
file is written atomically; SRC is read with ``weights_only=True``.
"""

import argparse
import io

import torch

from mmuss.utils.atomic_io import atomic_path
from mmuss.utils.checkpoint_safety import load_checkpoint_file


def backbone_state_dict(checkpoint: dict) -> dict:
    """The ``backbone.*`` tensors of a loaded runner checkpoint.

    Raises:
        KeyError: If it holds no backbone weights.
    """
    state = checkpoint.get('state_dict', checkpoint)
    weights = {
        key: value
        for key, value in state.items()
        if key.startswith('backbone.') and isinstance(value, torch.Tensor)
    }
    if not weights:
        raise KeyError('the checkpoint holds no backbone.* weights')
    return weights


def convert(src: str, dst: str, fp16: bool = False) -> int:
    """Write the backbone of ``src`` to ``dst``; return the tensor count."""
    weights = backbone_state_dict(load_checkpoint_file(src))
    if fp16:
        weights = {
            k: v.half() if v.is_floating_point() else v
            for k, v in weights.items()
        }
    buffer = io.BytesIO()
    torch.save(dict(state_dict=weights), buffer)
    with atomic_path(dst) as tmp_path:
        with open(tmp_path, 'wb') as file:
            file.write(buffer.getvalue())
    return len(weights)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='mmpretrain runner checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument(
        '--fp16', action='store_true', help='store float16 weights'
    )
    args = parser.parse_args()
    count = convert(args.src, args.dst, args.fp16)
    print(f'wrote {count} backbone tensors to {args.dst}')


if __name__ == '__main__':
    main()
