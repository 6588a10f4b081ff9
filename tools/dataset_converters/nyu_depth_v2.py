# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare NYU-Depth-v2 (RGB + HHA, 13 classes) in the mmuss layout.

    python tools/dataset_converters/nyu_depth_v2.py NYU_DIR \
        data/nyu_depth_v2 [--nproc 8]

NYU_DIR is the "nyu" folder of UniM2's NYU_Depth archive: RGB/, HHA/,
Labels/ (NYU-40), train.txt and test.txt (or val.txt). RGB and HHA files
stored transposed relative to their label are turned back.
"""

import argparse

from mmuss.datasets.preparation import convert_nyu_depth_v2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source_root', help='the "nyu" folder')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_nyu_depth_v2(args.source_root, args.out, args.nproc)
    print(f'images per split (and transposed files): {counts}')


if __name__ == '__main__':
    main()
