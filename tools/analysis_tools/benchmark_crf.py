# Copyright (c) mmuss contributors. All rights reserved.
"""Dense-CRF speed for each number of worker processes.

    python tools/analysis_tools/benchmark_crf.py [--images 16] [--size 320]
        [--classes 27] [--workers 1 2 4]

Images/s of mmuss's dense CRF (10 iterations) on --images synthetic scenes
of --size x --size with smooth random probabilities of --classes classes,
for each worker count (default: 1 and all cores), after a warm-up call that
starts the worker pool. Printed: images/s and the speed-up over the first
worker count.
"""

import argparse
from typing import List, Optional

from mmuss.models.utils.dense_crf import (
    DenseCRF,
    _shutdown_pools,
    default_num_workers,
)
from mmuss.utils.benchmarking import print_table, scene_crf_inputs, timed


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--classes', type=int, default=27)
    parser.add_argument('--workers', type=int, nargs='+')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return images/s for each worker count."""
    args = parse_args(argv)
    images, probs = scene_crf_inputs(args.images, args.size, args.classes)
    workers = args.workers or sorted({1, default_num_workers()})
    rates, rows = {}, []
    for count in workers:
        crf = DenseCRF(num_workers=count)
        warm = max(2, count)  # a single image would run in this process
        crf(images[:warm], probs[:warm])  # start the pool
        _, seconds = timed(lambda crf=crf: crf(images, probs))
        rates[count] = args.images / seconds
        speed_up = rates[count] / rates[workers[0]]
        rows.append([count, f'{rates[count]:.2f}', f'{speed_up:.2f}x'])
    _shutdown_pools()
    print_table(
        f'dense CRF, {args.images} images {args.size}x{args.size}, '
        f'{args.classes} classes, 10 iterations',
        ['workers', 'images/s', 'speed-up'],
        rows,
    )
    return rates


if __name__ == '__main__':
    main()
