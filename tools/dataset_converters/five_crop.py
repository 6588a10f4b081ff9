# Copyright (c) mmuss contributors. All rights reserved.
"""Write the five-crop training set (4 corners + centre) of a dataset.

    python tools/dataset_converters/five_crop.py CONFIG \
        [--dataloader train_dataloader] [--ratio 0.5] [--out DIR] [--nproc 8]

The dataset is taken from the config (a KNNPairDataset's inner dataset is
used). Crops go to <data_root>/five_crop_<ratio> (or --out) with the same
folder structure and suffixes, named <stem>_crop<k><suffix>, and the
dataset's image list (ann_file), if any, is written there with every name
expanded to its five crops; point the dataset's data_root there to train on
them. Given a config that already trains on the crops (its data_root is a
five_crop_<ratio> folder, e.g. configs/stego/dino_vits8_cocostuff27.py),
the tool crops the images of the parent folder into it, so that config
finds exactly the files it reads. The dense maps and modality images the
pipeline stacks onto the image (LoadDenseMap, LoadModality: depth, HHA,
thermal, polarisation, NIR) are cropped with the same boxes, so the crops
load with the same pipeline.
"""

import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmuss.datasets.preparation import five_crop_dataset
from mmuss.datasets.preparation.five_crop import dense_maps_of_pipeline


def inner_dataset_cfg(cfg: Config, loader: str) -> dict:
    dataset = cfg[loader]['dataset'].copy()
    while dataset.get('type') == 'KNNPairDataset':
        dataset = dataset['dataset'].copy()
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--dataloader', default='train_dataloader')
    parser.add_argument('--ratio', type=float, default=0.5)
    parser.add_argument('--out', help='output root')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = inner_dataset_cfg(cfg, args.dataloader)
    dense_maps = dense_maps_of_pipeline(dataset_cfg.get('pipeline', []))
    dataset_cfg['pipeline'] = []
    crop_folder = f'five_crop_{args.ratio}'
    root = osp.normpath(dataset_cfg['data_root'])
    out = args.out
    if osp.basename(root) == crop_folder:  # the config reads the crops
        dataset_cfg['data_root'] = osp.dirname(root)
        out = out or root
    dataset = DATASETS.build(dataset_cfg)
    out = out or osp.join(dataset.data_root, crop_folder)
    count = five_crop_dataset(
        dataset, out, args.ratio, args.nproc, dense_maps=dense_maps
    )
    print(f'wrote 5 x {count} crops to {out}')


if __name__ == '__main__':
    main()
