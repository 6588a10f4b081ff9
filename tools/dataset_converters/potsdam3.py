# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare Potsdam-3 from IIC's Potsdam patches (.mat files).

    python tools/dataset_converters/potsdam3.py data/potsdam \
        [--out data/potsdam] [--merge iic] [--nproc 8]

The source folder holds imgs/<id>.mat, gt/<id>.mat, labelled_train.txt,
labelled_test.txt and unlabelled_train.txt.
"""

import argparse

from mmuss.datasets.preparation import POTSDAM_MERGES, convert_potsdam3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source_root', help='IIC potsdam folder')
    parser.add_argument('--out', help='output folder (default: source)')
    parser.add_argument(
        '--merge',
        choices=sorted(POTSDAM_MERGES),
        default='iic',
        help='6 -> 3 class merge',
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_potsdam3(
        args.source_root, args.out, args.nproc, args.merge
    )
    print(f'images per split: {counts}')


if __name__ == '__main__':
    main()
