# Copyright (c) mmuss contributors. All rights reserved.
"""Nearest-neighbour lists of the training images (STEGO's KNN pairs).

    python tools/precompute_knn.py CONFIG [--out FILE] [--resolution 224]
        [--topk 30] [--batch-size 64] [--num-workers 4] [--device cuda]

Every training image (resized to --resolution and centre-cropped) is
described by the config's frozen backbone: the last feature map, average
pooled and L2-normalised. The --topk most similar images by cosine (itself
first) are written to a .npz (key "nns", plus "img_paths").

Upstream STEGO differs in three ways, each reachable here: its featurizer's
Dropout2d(0.1) is active while descriptors are computed (it is never put in
eval mode): --descriptor-dropout 0.1 (masks seeded per image from --seed,
so results do not depend on batching); it takes the plain top-k, where an
image is at rank 0 only because its cosine with itself is 1:
--self-rank natural; it resizes with nearest-neighbour interpolation:
--interpolation nearest. Defaults: no dropout, the image forced to rank 0,
bilinear. The output is the
config's KNNPairDataset knn_file when it has one, otherwise
<data_root>/nns/nns_<backbone>_<dataset>_<split>_none_<res>.npz. Chunks of
descriptors are saved as they finish, so an interrupted run resumes.
"""

import argparse
import os.path as osp
import shutil
import time

from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader, Subset

from mmuss.datasets.preparation.knn import (
    compute_descriptors,
    global_descriptors,
    knn_file_name,
    nearest_neighbours,
    save_knn_file,
)
from mmuss.utils.offline_tool import (
    load_tool_config,
    offline_tool_parser,
    unwrap_dataset_cfg,
)


def parse_args() -> argparse.Namespace:
    parser = offline_tool_parser(__doc__.splitlines()[0], batch_size=64)
    parser.add_argument('--out', help='output .npz')
    parser.add_argument('--resolution', type=int, default=224)
    parser.add_argument('--topk', type=int, default=30)
    parser.add_argument('--chunk-size', type=int, default=512)
    parser.add_argument(
        '--descriptor-dropout',
        type=float,
        default=0.0,
        help='channel dropout before pooling (upstream: 0.1)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--self-rank',
        choices=['first', 'natural'],
        default='first',
        help="'first' forces every image to rank 0; 'natural' is "
        "upstream's plain top-k",
    )
    parser.add_argument(
        '--interpolation',
        default='bilinear',
        help='resize interpolation (upstream: nearest)',
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args)
    dataset_cfg, wrappers = unwrap_dataset_cfg(cfg, args.dataloader)
    knn_files = [w['knn_file'] for w in wrappers if w.get('knn_file')]
    knn_file = knn_files[-1] if knn_files else None
    dataset_cfg['pipeline'] = [
        dict(type='LoadImageFromFile'),
        dict(
            type='ResizeCenterCrop',
            size=args.resolution,
            interpolation=args.interpolation,
        ),
        dict(type='PackSegInputs'),
    ]
    dataset = DATASETS.build(dataset_cfg)
    root = dataset.data_root or ''
    out = args.out or (
        osp.join(root, knn_file)
        if knn_file
        else osp.join(
            root,
            'nns',
            knn_file_name(
                cfg.model.backbone.get('arch', 'backbone'),
                type(dataset).__name__,
                osp.basename(dataset.data_prefix['img_path']),
                'none',
                args.resolution,
            ),
        )
    )
    img_paths = [
        osp.relpath(dataset.get_data_info(i)['img_path'], root)
        for i in range(len(dataset))
    ]

    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device).eval()

    index_of = {path: i for i, path in enumerate(img_paths)}

    def extract(batch):
        data = model.data_preprocessor(batch, False)
        seeds = [
            args.seed * 1_000_003
            + index_of[osp.relpath(sample.img_path, root)]
            for sample in batch['data_samples']
        ]
        return global_descriptors(
            model.backbone(model.image_inputs(data['inputs']))[-1],
            args.descriptor_dropout,
            seeds,
        )

    def load_batches(indices):
        return DataLoader(
            Subset(dataset, list(indices)),
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            collate_fn=pseudo_collate,
        )

    parts_dir = out + '.parts'
    fingerprint = dict(
        config=osp.abspath(args.config),
        backbone=str(cfg.model.backbone),
        images=len(dataset),
        first=img_paths[:1],
        last=img_paths[-1:],
        resolution=args.resolution,
        dropout=args.descriptor_dropout,
        seed=args.seed,
        interpolation=args.interpolation,
    )
    start = time.time()
    descriptors = compute_descriptors(
        extract,
        load_batches,
        len(dataset),
        parts_dir,
        fingerprint,
        args.chunk_size,
    )
    elapsed = time.time() - start
    nns = nearest_neighbours(
        descriptors, args.topk, self_first=args.self_rank == 'first'
    )
    save_knn_file(out, nns, img_paths)
    shutil.rmtree(parts_dir, ignore_errors=True)
    print(
        f'wrote {out}: {nns.shape[0]} images x {nns.shape[1]} neighbours '
        f'({len(dataset) / max(elapsed, 1e-9):.1f} images/s)'
    )


if __name__ == '__main__':
    main()
