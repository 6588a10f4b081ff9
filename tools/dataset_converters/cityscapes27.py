# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare Cityscapes-27 from the official gtFine download.

    python tools/dataset_converters/cityscapes27.py data/cityscapes [--nproc 8]

data/cityscapes must hold leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
and gtFine/{train,val}/<city>/*_gtFine_labelIds.png.
"""

import argparse

from mmuss.datasets.preparation import convert_cityscapes27


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root', help='Cityscapes folder')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    print(
        f'images per split: {convert_cityscapes27(args.data_root, args.nproc)}'
    )


if __name__ == '__main__':
    main()
