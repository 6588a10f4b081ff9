# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare COCO-Stuff-27 from the official COCO-Stuff-164k download.

    python tools/dataset_converters/cocostuff27.py data/cocostuff \
        [--curated-dir IIC_CURATED_DIR] [--nproc 8]

data/cocostuff must hold images/{train2017,val2017}/*.jpg and
annotations/{train2017,val2017}/*.png (stuffthingmaps_trainval2017.zip).
"""

import argparse

from mmuss.datasets.preparation import convert_cocostuff27


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root', help='COCO-Stuff-164k folder')
    parser.add_argument(
        '--curated-dir',
        help='folder with <split>/Coco164kFull_Stuff_Coarse_7.txt (the IIC '
        'lists); derived with the IIC rule when absent',
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_cocostuff27(
        args.data_root, args.nproc, curated_dir=args.curated_dir
    )
    print(f'curated images per split: {counts}')


if __name__ == '__main__':
    main()
