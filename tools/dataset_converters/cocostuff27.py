# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare COCO-Stuff-27 from the official COCO-Stuff-164k download.

    python tools/dataset_converters/cocostuff27.py data/cocostuff \
        [--curated-dir IIC_CURATED_DIR] [--nproc 8]

data/cocostuff must hold images/{train2017,val2017}/*.jpg and
annotations/{train2017,val2017}/*.png (stuffthingmaps_trainval2017.zip).
Prints the number of images of every list written (IIC release:
Coco164kFull_Stuff_Coarse_7.txt 49,629 train / 2,175 val,
Coco164kFull_Stuff_Coarse.txt 97,702 train / 4,172 val).
"""

import argparse

from mmuss.datasets.preparation import convert_cocostuff27
from mmuss.datasets.preparation.cocostuff27 import STEGO_TRAIN_LIST


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root', help='COCO-Stuff-164k folder')
    parser.add_argument(
        '--curated-dir',
        help='folder with <split>/Coco164kFull_Stuff_Coarse_7.txt and '
        "<split>/Coco164kFull_Stuff_Coarse.txt (the IIC lists in STEGO's "
        'cocostuff.zip); without it the _7 list is derived with the IIC '
        "rule and STEGO's training list is not available",
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_cocostuff27(
        args.data_root, args.nproc, curated_dir=args.curated_dir
    )
    for split, lists in counts.items():
        for name, count in lists.items():
            print(f'{split}/{name}: {count} images')
        if STEGO_TRAIN_LIST not in lists:
            print(
                f"{split}/{STEGO_TRAIN_LIST} (STEGO's training list) not "
                'written: pass --curated-dir with the IIC lists'
            )


if __name__ == '__main__':
    main()
