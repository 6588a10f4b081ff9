# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare MaSTr1325 (3 classes) in the mmseg folder layout.

    python tools/dataset_converters/mastr1325.py MASTR_DIR data/mastr1325 \
        [--val-fraction 0.2] [--seed 0] [--nproc 8]

MASTR_DIR holds MaSTr1325_images_512x384/ and MaSTr1325_masks_512x384/.
"""

import argparse

from mmuss.datasets.preparation import convert_mastr1325


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source_root', help='folder of the official data')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--val-fraction', type=float, default=0.2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_mastr1325(
        args.source_root, args.out, args.nproc, args.val_fraction, args.seed
    )
    print(f'images per split: {counts}')


if __name__ == '__main__':
    main()
