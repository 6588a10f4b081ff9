# Copyright (c) mmuss contributors. All rights reserved.
"""Prepare MCubeS (RGB, AoLP, DoLP, NIR; 20 materials) in the mmuss layout.

    python tools/dataset_converters/mcubes.py MCUBES_DIR data/mcubes \
        [--left-offset 192] [--splits train val test] [--nproc 8]

MCUBES_DIR is the official multimodal_dataset folder: polL_color/,
polL_aolp_sin/, polL_aolp_cos/, polL_dolp/, NIR_warped/, GT/ and
list_folder/. Every array loses its 192 leftmost columns (as upstream);
AoLP, DoLP and NIR are written as 8-bit PNGs encoded as UniM2 does.
"""

import argparse

from mmuss.datasets.preparation import convert_mcubes
from mmuss.datasets.preparation.mcubes import LEFT_OFFSET, MCUBES_SPLITS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source_root', help='the official MCubeS folder')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--left-offset', type=int, default=LEFT_OFFSET)
    parser.add_argument('--splits', nargs='+', default=list(MCUBES_SPLITS))
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    counts = convert_mcubes(
        args.source_root, args.out, args.nproc, args.left_offset, args.splits
    )
    print(f'images per split: {counts}')


if __name__ == '__main__':
    main()
