# Copyright (c) mmuss contributors. All rights reserved.
"""Speed benchmarks of mmuss's offline and evaluation machinery.

    python tools/analysis_tools/benchmark.py crf [--images 16] [--size 320]
        [--classes 27] [--workers 1 2 4]
    python tools/analysis_tools/benchmark.py train [CONFIG] [--batch-size 16]
        [--steps 3] [--device cpu]
    python tools/analysis_tools/benchmark.py knn [CONFIG] [--images 64]
        [--batch-size 16] [--resolution 224] [--database 50000]

crf: dense-CRF images/s for each worker count (processes), on random
     probabilities and synthetic scenes of --size x --size.
train: training steps/s, images/s and peak memory of a config (default:
     STEGO, DINO ViT-S/8, COCO-Stuff-27) on random images at --batch-size,
     and the time per step of the head's loss alone.
knn: descriptor images/s of the config's backbone (randomly initialised:
     the speed does not depend on the weights) on random images, and the
     time of the top-30 search over --database random descriptors.
Figures are printed as a table.
"""

import argparse
import os
import time

import torch
import torch.nn.functional as F

from mmuss.datasets.synthetic import generate_scene
from mmuss.models.utils.dense_crf import (
    DenseCRF,
    _shutdown_pools,
    default_num_workers,
)

STEGO_COCO_CONFIG = os.path.join(
    os.path.dirname(__file__),
    '..',
    '..',
    'configs',
    'stego',
    'dino_vits8_cocostuff27.py',
)
DEMO_CONFIG = os.path.join(
    os.path.dirname(__file__),
    '..',
    '..',
    'configs',
    'baseline',
    'tiny-vit_synthetic.py',
)


def print_table(title, header, rows):
    widths = [
        max(len(str(x)) for x in column) for column in zip(header, *rows)
    ]
    print(f'\n{title}')
    print('  '.join(str(h).ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print('  '.join(str(c).ljust(w) for c, w in zip(row, widths)))


def benchmark_crf(args) -> None:
    # Natural-looking images (region textures): the bilateral lattice of a
    # pure-noise image is unrealistically large.
    images = [
        generate_scene(0, index, args.size)[0] for index in range(args.images)
    ]
    logits = torch.randn(
        args.images, args.classes, args.size // 8, args.size // 8
    )
    probs = (
        F.interpolate(logits, size=(args.size, args.size), mode='bilinear')
        .softmax(1)
        .numpy()
    )
    workers = args.workers or sorted({1, default_num_workers()})
    rows, base = [], None
    for count in workers:
        crf = DenseCRF(num_workers=count)
        warm = max(2, count)  # a single image would run in this process
        crf(images[:warm], list(probs[:warm]))  # start the pool
        start = time.perf_counter()
        crf(images, list(probs))
        rate = args.images / (time.perf_counter() - start)
        base = base or rate
        rows.append([count, f'{rate:.2f}', f'{rate / base:.2f}x'])
    _shutdown_pools()
    print_table(
        f'dense CRF, {args.images} images {args.size}x{args.size}, '
        f'{args.classes} classes, 10 iterations',
        ['workers', 'images/s', 'speed-up'],
        rows,
    )


def benchmark_knn(args) -> None:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from mmuss.datasets.preparation.knn import (
        global_descriptors,
        nearest_neighbours,
    )

    cfg = Config.fromfile(args.config)
    cfg.model.backbone.init_cfg = None  # speed only: no checkpoint needed
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    batch = [
        torch.randint(
            0, 256, (3, args.resolution, args.resolution), dtype=torch.uint8
        )
        for _ in range(args.batch_size)
    ]
    rows = []
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=batch), False)
        model.backbone(data['inputs'])  # warm-up
        start = time.perf_counter()
        done = 0
        while done < args.images:
            data = model.data_preprocessor(dict(inputs=batch), False)
            global_descriptors(model.backbone(data['inputs'])[-1])
            done += args.batch_size
        rate = done / (time.perf_counter() - start)
    rows.append(['descriptors (backbone forward)', f'{rate:.1f} images/s'])
    database = F.normalize(torch.randn(args.database, 384), dim=1)
    start = time.perf_counter()
    nearest_neighbours(database, 30)
    seconds = time.perf_counter() - start
    rows.append(
        [f'top-30 search over {args.database} images', f'{seconds:.2f} s']
    )
    print_table(
        f'KNN tool, {os.path.basename(args.config)}, '
        f'{args.resolution}px, batch {args.batch_size}',
        ['step', 'speed'],
        rows,
    )


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory of the run: CUDA allocator peak, or the process's peak
    resident set size on the CPU."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_training_batch(
    cfg, batch_size: int, size: int, num_classes: int
) -> dict:
    """Random uint8 images (and KNN images and labels) as the data loader
    packs them."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    samples = []
    for _ in range(batch_size):
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size))
        )
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, size, size))
        )
        sample.knn_img = PixelData(
            data=torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        )
        samples.append(sample)
    inputs = [
        torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    return dict(inputs=inputs, data_samples=samples)


def benchmark_train(args) -> None:
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    cfg = Config.fromfile(args.config)
    cfg.model.backbone.init_cfg = None  # speed only: no checkpoint needed
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    device = torch.device(args.device)
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    batch = random_training_batch(
        cfg, args.batch_size, args.size, cfg.model.num_classes
    )
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
        model.train_step(batch, optim_wrapper)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    steps_per_s = args.steps / (time.perf_counter() - start)
    rows = [
        ['training steps/s', f'{steps_per_s:.3f}'],
        ['images/s', f'{steps_per_s * args.batch_size:.2f}'],
        ['peak memory (MB)', f'{peak_memory_mb(device):.0f}'],
    ]
    loss_module = getattr(model.decode_head, 'loss_corr', None)
    if loss_module is not None:
        rows.append(
            [
                'loss forward+backward (s/step)',
                f'{time_loss(model, loss_module, batch, args):.4f}',
            ]
        )
    print_table(
        f'training, {os.path.basename(args.config)}, batch '
        f'{args.batch_size}, {args.size}px, {device.type}',
        ['measure', 'value'],
        rows,
    )


def time_loss(model, loss_module, batch, args) -> float:
    """Seconds per step of the head loss alone (forward + backward) on the
    batch's real features and codes."""
    data = model.data_preprocessor(batch, True)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        knn = model.view_features(
            data['data_samples'], 'knn_img', data['inputs']
        )
    head = model.decode_head
    start = time.perf_counter()
    for _ in range(args.steps):
        codes = head(feats)
        knn_codes = head(knn)
        losses = loss_module(
            head.loss_signal(feats), codes, head.loss_signal(knn), knn_codes
        )
        losses[loss_module.loss_name].backward()
    return (time.perf_counter() - start) / args.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    crf = sub.add_parser('crf')
    crf.add_argument('--images', type=int, default=16)
    crf.add_argument('--size', type=int, default=320)
    crf.add_argument('--classes', type=int, default=27)
    crf.add_argument('--workers', type=int, nargs='+')
    knn = sub.add_parser('knn')
    knn.add_argument('config', nargs='?', default=DEMO_CONFIG)
    knn.add_argument('--images', type=int, default=64)
    knn.add_argument('--batch-size', type=int, default=16)
    knn.add_argument('--resolution', type=int, default=224)
    knn.add_argument('--database', type=int, default=50000)
    train = sub.add_parser('train')
    train.add_argument('config', nargs='?', default=STEGO_COCO_CONFIG)
    train.add_argument('--batch-size', type=int, default=16)
    train.add_argument('--size', type=int, default=224)
    train.add_argument('--steps', type=int, default=3)
    train.add_argument('--warmup', type=int, default=1)
    train.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    args = parser.parse_args()
    commands = dict(
        crf=benchmark_crf, knn=benchmark_knn, train=benchmark_train
    )
    commands[args.command](args)


if __name__ == '__main__':
    main()
