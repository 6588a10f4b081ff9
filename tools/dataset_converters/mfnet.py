# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare MFNet (RGB + thermal, 8 classes) in the mmuss layout.

    python tools/dataset_converters/mfnet.py MFNET_DIR data/mfnet \
        [--splits train val test] [--nproc 8]

MFNET_DIR is the official dataset folder: images/ (4-channel RGB + thermal
PNGs), labels/ and train.txt, val.txt, test.txt. Each image is split into
an RGB image and a thermal image (thermal/img_dir/all).
"""

import argparse

from mmuss.datasets.preparation import convert_mfnet
from mmuss.datasets.preparation.mfnet import MFNET_SPLITS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source_root', help='the official MFNet folder')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--splits', nargs='+', default=list(MFNET_SPLITS))
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_mfnet(args.source_root, args.out, args.nproc, args.splits)
    print(f'images per split: {counts}')


if __name__ == '__main__':
    main()
