# Copyright (c) mmuss contributors. All rights reserved.
"""Speed benchmarks of mmuss's offline and evaluation machinery.

    python tools/analysis_tools/benchmark.py crf [--images 16] [--size 320]
        [--classes 27] [--workers 1 2 4]
    python tools/analysis_tools/benchmark.py train [CONFIG] [--batch-size 16]
        [--steps 3] [--device cpu]
    python tools/analysis_tools/benchmark.py primaps [--images 8] [--size 40]
    python tools/analysis_tools/benchmark.py knn [CONFIG] [--images 64]
        [--batch-size 16] [--resolution 224] [--database 50000]
    python tools/analysis_tools/benchmark.py pairs [--batch-size 32]
        [--size 224] [--patch 8] [--chunks 0 256 64] [--steps 3]
    python tools/analysis_tools/benchmark.py harness [CONFIG]
        [--batch-size 16] [--size 224] [--steps 3] [--eval-size 320]
        [--eval-images 16] [--crf-images 8]

crf: dense-CRF images/s for each worker count (processes), on random
     probabilities and synthetic scenes of --size x --size.
train: training steps/s, images/s and peak memory of a config (default:
     STEGO, DINO ViT-S/8, COCO-Stuff-27) on random images at --batch-size,
     and the time per step of the head's loss alone.
primaps: PriMaPs mask proposals per image on --size x --size features
     (40x40 = ViT-S/8 at 320 px) with --channels channels: mmuss's batched
     generator against a straightforward per-iteration torch.pca_lowrank
     loop, and whether their masks are identical.
harness: for a config (default: the STEGO ViT-S/8 COCO-Stuff-27 one), training
     steps/s and peak memory without and with the frozen-feature cache
     (each in a fresh process, so peak memories are separate; the cache is
     filled by the warm-up step, as from the second epoch on), evaluation
     images/s of the config's test mode, and dense-CRF images/s on
     evaluation-size images with all cores.
pairs: DS²DL's all-pairs affinity loss (Eq. 3 over intra- and cross-image
     pixel pairs) forward + backward: seconds per step and peak memory
     (CUDA allocator peak; on the CPU the growth of the process's peak
     resident set, glibc's mmap threshold fixed) for each --chunks row block
     size (0: one block), each in a fresh process, over two steps, on random
     64-d codes of (--size / --patch)^2 pixels.
knn: descriptor images/s of the config's backbone (randomly initialised:
     the speed does not depend on the weights) on random images, and the
     time of the top-30 search over --database random descriptors.
Figures are printed as a table.
"""

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

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


SIZE_HELP = (
    "training image size; defaults to the data preprocessor's size "
    '(the training crop), else 224'
)


def training_size(cfg, size: Optional[int]) -> int:
    """--size, else the training crop the data preprocessor pads to."""
    if size is not None:
        return size
    crop = (cfg.model.get('data_preprocessor') or {}).get('size')
    return int(crop[0]) if crop else 224


def quiet_logs() -> None:
    """Keep MMEngine's per-parameter initialisation report out of the
    benchmark output."""
    import logging

    from mmengine.logging import MMLogger

    MMLogger.get_current_instance().setLevel(logging.ERROR)


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

    quiet_logs()
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
    """Random uint8 images (with labels and every method's extra views) as
    the data loader packs them."""
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
        # the extra inputs of the methods: STEGO's KNN image, PriMaPs-EM's
        # photometric student view (random: never cached) and mask map
        sample.knn_img = PixelData(
            data=torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        )
        sample.student_img = PixelData(
            data=torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        )
        sample.set_metainfo(dict(random_fields=('student_img',)))
        sample.primaps_map = PixelData(
            data=torch.randint(1, 9, (1, size, size), dtype=torch.uint8)
        )
        samples.append(sample)
    inputs = [
        torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    return dict(inputs=inputs, data_samples=samples)


def build_training(
    config: str,
    batch_size: int,
    size: Optional[int],
    device: str,
    cache_dir: Optional[str] = None,
):
    """A config's model (random weights: speed does not depend on them),
    optimiser wrapper and one random training batch; with ``cache_dir``
    through a feature cache. PriMaPs-EM heads are put in their EM phase.

    Returns:
        tuple: ``(model, optim_wrapper, batch, size)``.
    """
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    quiet_logs()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    cfg.model.feature_cache = (
        dict(cache_dir=cache_dir) if cache_dir is not None else None
    )
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).to(torch.device(device))
    model.init_weights()
    head = model.decode_head
    if hasattr(head, 'set_prototypes'):  # PriMaPs-EM: time the EM phase
        head.set_prototypes(
            F.normalize(torch.randn_like(head.prototypes.student), dim=1), 0
        )
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    size = training_size(cfg, size)
    batch = random_training_batch(cfg, batch_size, size, cfg.model.num_classes)
    return model, optim_wrapper, batch, size


def time_train_steps(model, optim_wrapper, batch, steps, warmup) -> float:
    """Training steps/s after ``warmup`` untimed steps."""
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        model.train_step(batch, optim_wrapper)
    device = next(model.parameters()).device
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return steps / (time.perf_counter() - start)


def benchmark_train(args) -> None:
    model, optim_wrapper, batch, size = build_training(
        args.config, args.batch_size, args.size, args.device
    )
    steps_per_s = time_train_steps(
        model, optim_wrapper, batch, args.steps, args.warmup
    )
    device = torch.device(args.device)
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
        f'{args.batch_size}, {size}px, {device.type}',
        ['measure', 'value'],
        rows,
    )


def _train_speed(
    config: str,
    batch_size: int,
    size: Optional[int],
    steps: int,
    warmup: int,
    device: str,
    cache_dir: Optional[str] = None,
) -> dict:
    """Training steps/s and peak memory of a config on one random batch;
    with ``cache_dir`` through a feature cache that the warm-up fills."""
    model, optim_wrapper, batch, size = build_training(
        config, batch_size, size, device, cache_dir
    )
    steps_per_s = time_train_steps(model, optim_wrapper, batch, steps, warmup)
    return dict(
        steps_per_s=steps_per_s,
        peak_mb=peak_memory_mb(torch.device(device)),
        size=size,
    )


def _eval_speed(
    config: str, size: int, images: int, batch_size: int, device: str
) -> float:
    """Evaluation images/s of the config's test mode on random images."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    quiet_logs()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, use_crf=False)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).to(torch.device(device))
    model.init_weights()
    model.eval()
    meta = dict(img_shape=(size, size), ori_shape=(size, size))
    batch = dict(
        inputs=[
            torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
            for _ in range(batch_size)
        ],
        data_samples=[SegDataSample(metainfo=meta) for _ in range(batch_size)],
    )
    model.test_step(batch)  # warm-up
    start, done = time.perf_counter(), 0
    while done < images:
        model.test_step(batch)
        done += batch_size
    return done / (time.perf_counter() - start)


def _crf_speed(size: int, images: int, classes: int) -> float:
    """Dense-CRF images/s with all cores on evaluation-size scenes."""
    scenes = [generate_scene(0, i, size)[0] for i in range(images)]
    logits = torch.randn(images, classes, size // 8, size // 8)
    probs = F.interpolate(logits, size=(size, size), mode='bilinear')
    probs = list(probs.softmax(1).numpy())
    crf = DenseCRF()
    crf(scenes[:2], probs[:2])  # start the pool
    start = time.perf_counter()
    crf(scenes, probs)
    rate = images / (time.perf_counter() - start)
    _shutdown_pools()
    return rate


def _in_fresh_process(function, *args, **kwargs):
    """Run ``function`` in a new process (its own peak memory)."""
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(function, *args, **kwargs).result()


def _pairs_speed(
    batch: int, pixels: int, chunk: int, steps: int, device: str
) -> dict:
    """Seconds per forward + backward of DS2DLAffinityLoss and the peak
    memory it adds."""
    import resource

    from mmuss.models.losses import DS2DLAffinityLoss

    torch.manual_seed(0)
    dev = torch.device(device)
    loss = DS2DLAffinityLoss(chunk_size=chunk or None).to(dev)
    codes = torch.randn(batch, 64, pixels, 1, device=dev, requires_grad=True)
    labels = torch.randn(batch, 27, pixels, 1, device=dev).softmax(1)
    perm = torch.roll(torch.arange(batch, device=dev), 1)
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev) / 2**20
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for step in range(steps + 1):  # one warm-up step
        if step == 1:
            if dev.type == 'cuda':
                torch.cuda.synchronize(dev)
            start = time.perf_counter()
        loss(codes, labels, perm)['loss_pair'].backward()
    if dev.type == 'cuda':
        torch.cuda.synchronize(dev)
    seconds = (time.perf_counter() - start) / steps
    return dict(seconds=seconds, peak_mb=peak_memory_mb(dev) - base)


def benchmark_pairs(args) -> None:
    pixels = (args.size // args.patch) ** 2
    # CPU: glibc raises its mmap threshold after large frees, so freed
    # blocks stay resident and the peak resident set grows with
    # fragmentation rather than with what the loss holds; a fixed threshold
    # (read by the fresh processes) makes the figure the loss's.
    os.environ.setdefault('MALLOC_MMAP_THRESHOLD_', '65536')
    rows = []
    for chunk in args.chunks:
        result = _in_fresh_process(
            _pairs_speed,
            args.batch_size,
            pixels,
            chunk,
            args.steps,
            args.device,
        )
        rows.append(
            [
                str(chunk or 'none'),
                f'{result["seconds"]:.4f}',
                f'{result["peak_mb"]:.0f}',
            ]
        )
    pairs = 2 * args.batch_size * pixels * pixels
    print_table(
        f'DS2DL affinity loss, batch {args.batch_size}, N = {pixels} '
        f'pixels ({pairs / 1e6:.1f} M pairs), {args.device}',
        ['chunk rows', 'forward+backward (s/step)', 'added peak memory (MB)'],
        rows,
    )


def benchmark_harness(args) -> None:
    train = (
        args.config,
        args.batch_size,
        args.size,
        args.steps,
        args.warmup,
        args.device,
    )
    backbone = _in_fresh_process(_train_speed, *train)
    with tempfile.TemporaryDirectory() as cache_dir:
        cached = _in_fresh_process(_train_speed, *train, cache_dir=cache_dir)
    speed_up = cached['steps_per_s'] / backbone['steps_per_s']
    cfg_name = os.path.basename(args.config)
    size = backbone['size']
    rows = [
        [
            'train, backbone every step',
            f'{backbone["steps_per_s"]:.3f} steps/s',
            f'{backbone["peak_mb"]:.0f}',
        ],
        [
            'train, feature cache',
            f'{cached["steps_per_s"]:.3f} steps/s ({speed_up:.1f}x)',
            f'{cached["peak_mb"]:.0f}',
        ],
    ]
    eval_rate = _in_fresh_process(
        _eval_speed,
        args.config,
        args.eval_size,
        args.eval_images,
        args.eval_batch_size,
        args.device,
    )
    rows.append(['evaluation', f'{eval_rate:.2f} images/s', '-'])
    num_classes = _num_classes(args.config)
    crf_rate = _crf_speed(args.eval_size, args.crf_images, num_classes)
    rows.append(
        [
            f'dense CRF ({default_num_workers()} workers)',
            f'{crf_rate:.2f} images/s',
            '-',
        ]
    )
    print_table(
        f'harness, {cfg_name}, train batch {args.batch_size} at '
        f'{size}px, evaluation at {args.eval_size}px, {args.device}',
        ['measure', 'speed', 'peak memory (MB)'],
        rows,
    )


def _num_classes(config: str) -> int:
    from mmengine.config import Config

    return Config.fromfile(config).model.num_classes


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


def structured_features(
    batch: int, channels: int, size: int, regions: int = 8, seed: int = 0
) -> torch.Tensor:
    """Random features made of ``regions`` blocky regions, like a ViT
    feature map of a scene."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(regions, channels, generator=generator)
    labels = torch.randint(
        0, regions, (batch, 1, 5, 5), generator=generator
    ).float()
    labels = F.interpolate(labels, size=(size, size), mode='nearest')
    feats = directions[labels[:, 0].long()].permute(0, 3, 1, 2)
    return feats + 0.5 * torch.randn(feats.shape, generator=generator)


def benchmark_primaps(args) -> None:
    from mmuss.models.utils.primaps import (
        principal_mask_proposals,
        reference_proposals_pca_lowrank,
    )

    feats = structured_features(args.images, args.channels, args.size)
    start = time.perf_counter()
    ours = principal_mask_proposals(feats)
    vectorised = (time.perf_counter() - start) / args.images
    start = time.perf_counter()
    reference = reference_proposals_pca_lowrank(feats)
    loop = (time.perf_counter() - start) / args.images
    masks_per_image = ours.flatten(1).max(1).values.float().mean()
    rows = [
        ['batched eigh, running moments (mmuss)', f'{vectorised * 1e3:.1f}'],
        ['per-iteration torch.pca_lowrank loop', f'{loop * 1e3:.1f}'],
        ['speed-up', f'{loop / vectorised:.2f}x'],
        ['identical masks', str(bool(torch.equal(ours, reference)))],
        ['masks per image', f'{masks_per_image:.1f}'],
    ]
    print_table(
        f'PriMaPs proposals, {args.images} images, '
        f'{args.size}x{args.size} features of {args.channels} '
        'channels (before the CRF)',
        ['measure', 'ms/image'],
        rows,
    )


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
    train.add_argument('--size', type=int, help=SIZE_HELP)
    train.add_argument('--steps', type=int, default=3)
    train.add_argument('--warmup', type=int, default=1)
    train.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    primaps = sub.add_parser('primaps')
    primaps.add_argument('--images', type=int, default=8)
    primaps.add_argument('--size', type=int, default=40)
    primaps.add_argument('--channels', type=int, default=384)
    pairs = sub.add_parser('pairs')
    pairs.add_argument('--batch-size', type=int, default=32)
    pairs.add_argument('--size', type=int, default=224)
    pairs.add_argument('--patch', type=int, default=8)
    pairs.add_argument('--chunks', type=int, nargs='+', default=[0, 256, 64])
    pairs.add_argument('--steps', type=int, default=3)
    pairs.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    harness = sub.add_parser('harness')
    harness.add_argument('config', nargs='?', default=STEGO_COCO_CONFIG)
    harness.add_argument('--batch-size', type=int, default=16)
    harness.add_argument('--size', type=int, help=SIZE_HELP)
    harness.add_argument('--steps', type=int, default=3)
    harness.add_argument('--warmup', type=int, default=1)
    harness.add_argument('--eval-size', type=int, default=320)
    harness.add_argument('--eval-images', type=int, default=16)
    harness.add_argument('--eval-batch-size', type=int, default=8)
    harness.add_argument('--crf-images', type=int, default=8)
    harness.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    args = parser.parse_args()
    commands = dict(
        crf=benchmark_crf,
        knn=benchmark_knn,
        train=benchmark_train,
        primaps=benchmark_primaps,
        harness=benchmark_harness,
        pairs=benchmark_pairs,
    )
    commands[args.command](args)


if __name__ == '__main__':
    main()
