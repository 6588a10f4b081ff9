# Copyright (c) mmuss contributors. All rights reserved.
"""Training speed and memory of UniM2 against the number of modalities.

    python tools/analysis_tools/benchmark_unim2_modalities.py
        [--modalities 1 2 3 4] [--batch-size 8] [--size 128]
        [--embed-dims 96] [--num-layers 4] [--patch 8] [--code-dim 70]
        [--samples 11] [--steps 3] [--device cuda|cpu] [--in-process]

Full training steps (frozen backbone once per modality, MSN, Cat+Conv
fusion, projection, CMH, CMCS over self / KNN / random pairs with KNN
positives carrying their modalities, cluster probe, Adam) of
:class:`UnsupervisedEncoderDecoder` with :class:`UniM2Head` on random
inputs with 1 (the image alone: STEGO) to M modalities. The backbone is a
randomly initialised ViT of the given size (the demo's by default; timing
needs no weights). Prints steps/s (after one warm-up step), images/s and
the peak memory (CUDA allocator peak, or the CPU process's peak resident
set); each count runs in a fresh process (its own peak) unless
--in-process.
"""

import argparse
from typing import List, Optional

import torch

from mmuss.utils.benchmarking import (
    default_device,
    in_fresh_process,
    peak_memory_mb,
    print_table,
    quiet_logs,
    timed,
)

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def unim2_model_cfg(args: dict, num_modalities: int) -> dict:
    """A segmentor config with ``num_modalities - 1`` auxiliary ones."""
    names = [f'modality{i}' for i in range(1, num_modalities)]
    stego = dict(
        weight_self=0.1,
        weight_knn=0.5,
        weight_rand=1.0,
        shift_self=0.5,
        shift_knn=0.3,
        shift_rand=0.3,
    )
    return dict(
        type='UnsupervisedEncoderDecoder',
        data_preprocessor=dict(
            type='USSDataPreProcessor',
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            bgr_to_rgb=True,
            size=(args['size'], args['size']),
            aux_channels=[
                dict(
                    name=name,
                    channels=3,
                    modality=True,
                    mean=IMAGENET_MEAN,
                    std=IMAGENET_STD,
                )
                for name in names
            ],
        ),
        backbone=dict(
            type='DINOVisionTransformer',
            arch=dict(
                embed_dims=args['embed_dims'],
                num_layers=args['num_layers'],
                num_heads=max(1, args['embed_dims'] // 32),
                feedforward_channels=4 * args['embed_dims'],
            ),
            patch_size=args['patch'],
            img_size=args['size'],
            init_cfg=None,
        ),
        decode_head=dict(
            type='UniM2Head',
            in_channels=args['embed_dims'],
            channels=args['code_dim'],
            modalities=tuple(names),
            use_cmh=bool(names),
            loss_cmcs=dict(
                type='CMCSLoss',
                num_samples=args['samples'],
                centering='stego',
                modalities={name: stego for name in ('image', *names)},
            ),
        ),
        num_classes=11,
    )


def random_batch(num_modalities: int, batch: int, size: int) -> dict:
    """uint8 inputs packed with every modality, KNN positives likewise."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    channels = 3 * num_modalities
    aux = tuple((f'modality{i}', 3) for i in range(1, num_modalities))
    samples = []
    for index in range(batch):
        sample = SegDataSample(
            metainfo=dict(
                img_path=f'img_{index}.png',
                ori_shape=(size, size),
                img_shape=(size, size),
                pad_shape=(size, size),
                aux_channels=aux,
            )
        )
        knn = torch.randint(0, 256, (channels, size, size), dtype=torch.uint8)
        sample.knn_img = PixelData(data=knn)
        samples.append(sample)
    inputs = [
        torch.randint(0, 256, (channels, size, size), dtype=torch.uint8)
        for _ in range(batch)
    ]
    return dict(inputs=inputs, data_samples=samples)


def train_speed(args: dict, num_modalities: int) -> dict:
    """Seconds per training step and the peak memory, for one count."""
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmuss  # noqa: F401 (registers the modules)

    init_default_scope('mmseg')
    quiet_logs()
    torch.manual_seed(0)
    device = torch.device(args['device'])
    model = MODELS.build(unim2_model_cfg(args, num_modalities)).to(device)
    model.init_weights()
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optim = OptimWrapper(torch.optim.Adam(trainable, lr=5e-4))
    data = random_batch(num_modalities, args['batch_size'], args['size'])
    model.train_step(data, optim)  # warm-up
    _, seconds = timed(
        lambda: [model.train_step(data, optim) for _ in range(args['steps'])],
        device,
    )
    step = seconds / args['steps']
    return dict(
        seconds=step,
        steps_per_s=1.0 / step,
        images_per_s=args['batch_size'] / step,
        peak_mb=peak_memory_mb(device),
    )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--modalities', type=int, nargs='+', default=[1, 2, 3, 4]
    )
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--embed-dims', type=int, default=96)
    parser.add_argument('--num-layers', type=int, default=4)
    parser.add_argument('--patch', type=int, default=8)
    parser.add_argument('--code-dim', type=int, default=70)
    parser.add_argument('--samples', type=int, default=11)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--device', default=default_device())
    parser.add_argument(
        '--in-process',
        action='store_true',
        help='measure in this process (peak memory is then cumulative)',
    )
    args = parser.parse_args(argv)
    bad = [m for m in args.modalities if m < 1]
    if bad:
        parser.error(f'--modalities must be >= 1 (the image), got {bad}')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return the figures per number of modalities."""
    args = parse_args(argv)
    settings = vars(args)
    results = {}
    for count in args.modalities:
        if args.in_process:
            results[count] = train_speed(settings, count)
        else:
            results[count] = in_fresh_process(train_speed, settings, count)
    print_table(
        f'UniM2 training steps, batch {args.batch_size}, {args.size} px, '
        f'ViT {args.embed_dims}-d x {args.num_layers} / patch {args.patch}, '
        f'{args.device}',
        ['modalities', 'steps/s', 'images/s', 's/step', 'peak memory (MB)'],
        [
            [
                str(count),
                f'{result["steps_per_s"]:.3f}',
                f'{result["images_per_s"]:.2f}',
                f'{result["seconds"]:.4f}',
                f'{result["peak_mb"]:.0f}',
            ]
            for count, result in results.items()
        ],
    )
    return results


if __name__ == '__main__':
    main()
