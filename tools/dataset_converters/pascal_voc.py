# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare PASCAL VOC 2012 (21 classes) in the mmseg folder layout.

    python tools/dataset_converters/pascal_voc.py VOCdevkit/VOC2012 \
        data/voc2012 [--sbd SBD/dataset] [--nproc 8]
"""

import argparse

from mmuss.datasets.preparation import convert_pascal_voc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('voc_root', help='VOCdevkit/VOC2012 folder')
    parser.add_argument('out', help='output folder')
    parser.add_argument(
        '--sbd',
        help='SBD "dataset" folder (cls/*.mat) to add the trainaug split',
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_pascal_voc(args.voc_root, args.out, args.nproc, args.sbd)
    print(f'images per split: {counts}')


if __name__ == '__main__':
    main()
