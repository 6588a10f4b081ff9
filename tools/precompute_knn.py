# Copyright (c) mmuss contributors. All rights reserved.
"""Nearest-neighbour lists of the training images (STEGO's KNN pairs).

    python tools/precompute_knn.py CONFIG [--out FILE] [--resolution 224]
        [--topk 30] [--batch-size 64] [--num-workers 4] [--device cuda]

Every training image (resized to --resolution and centre-cropped) is
described by the config's frozen backbone: the last feature map, average
pooled and L2-normalised. The --topk most similar images by cosine (itself
first) are written to a .npz (key "nns", plus "img_paths"). The output is the
config's KNNPairDataset knn_file when it has one, otherwise
<data_root>/nns/nns_<backbone>_<dataset>_<split>_none_<res>.npz. Chunks of
descriptors are saved as they finish, so an interrupted run resumes.
"""

import argparse
import os.path as osp
import shutil
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader, Subset

from mmuss.datasets.preparation.knn import (
    compute_descriptors,
    global_descriptors,
    knn_file_name,
    nearest_neighbours,
    save_knn_file,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--out', help='output .npz')
    parser.add_argument('--dataloader', default='train_dataloader')
    parser.add_argument('--resolution', type=int, default=224)
    parser.add_argument('--topk', type=int, default=30)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--chunk-size', type=int, default=512)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. key1=value1',
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = cfg[args.dataloader]['dataset'].copy()
    knn_file = None
    while dataset_cfg.get('type') == 'KNNPairDataset':
        knn_file = dataset_cfg.get('knn_file')
        dataset_cfg = dataset_cfg['dataset'].copy()
    dataset_cfg['pipeline'] = [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeCenterCrop', size=args.resolution),
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

    def extract(batch):
        data = model.data_preprocessor(batch, False)
        return global_descriptors(model.backbone(data['inputs'])[-1])

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
    nns = nearest_neighbours(descriptors, args.topk)
    save_knn_file(out, nns, img_paths)
    shutil.rmtree(parts_dir, ignore_errors=True)
    print(
        f'wrote {out}: {nns.shape[0]} images x {nns.shape[1]} neighbours '
        f'({len(dataset) / max(elapsed, 1e-9):.1f} images/s)'
    )


if __name__ == '__main__':
    main()
