# Copyright (c) mmuss contributors. All rights reserved.
"""Speed of the two steps of tools/precompute_knn.py.

    python tools/analysis_tools/benchmark_knn.py [CONFIG] [--images 64]
        [--batch-size 16] [--resolution 224] [--database 50000]
        [--topk 30] [--device cpu] [--cfg-options KEY=VALUE ...]

CONFIG defaults to the demo baseline. Printed: descriptor images/s of the
config's backbone (randomly initialised: the speed does not depend on the
weights) on random --resolution x --resolution images, as the KNN tool
embeds its resized crops (data preprocessor, backbone, pooled and
normalised last feature map), and the time of the top---topk cosine search
over --database random descriptors of the backbone's width.
"""

import argparse
import os.path as osp
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmuss.datasets.preparation.knn import (
    global_descriptors,
    nearest_neighbours,
)
from mmuss.utils.benchmarking import (
    default_device,
    load_config,
    print_table,
    quiet_logs,
    repository_config,
    timed,
)

DEMO_CONFIG = repository_config('baseline', 'tiny-vit_synthetic.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', default=DEMO_CONFIG)
    parser.add_argument('--images', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--resolution', type=int, default=224)
    parser.add_argument('--database', type=int, default=50000)
    parser.add_argument('--topk', type=int, default=30)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default=default_device())
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; return its figures, the search's database and its
    neighbours."""
    args = parse_args(argv)
    quiet_logs()
    cfg = load_config(args.config, args.cfg_options)
    device = torch.device(args.device)
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.eval()
    generator = torch.Generator().manual_seed(args.seed)
    shape = (3, args.resolution, args.resolution)
    batch = [
        torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
        for _ in range(args.batch_size)
    ]

    def describe():
        data = model.data_preprocessor(dict(inputs=batch), False)
        return global_descriptors(model.backbone(data['inputs'])[-1])

    batches = -(-args.images // args.batch_size)
    with torch.no_grad():
        width = describe().shape[1]  # warm-up

        def run():
            for _ in range(batches):
                describe()

        _, seconds = timed(run, device)
    rate = batches * args.batch_size / seconds
    database = F.normalize(
        torch.randn(args.database, width, generator=generator), dim=1
    )
    neighbours, search_s = timed(
        lambda: nearest_neighbours(database, args.topk)
    )
    rows = [
        ['descriptors (backbone forward)', f'{rate:.1f} images/s'],
        [
            f'top-{args.topk} search over {args.database} images',
            f'{search_s:.2f} s',
        ],
    ]
    print_table(
        f'KNN tool, {osp.basename(args.config)}, '
        f'{args.resolution}px, batch {args.batch_size}, {args.device}',
        ['step', 'speed'],
        rows,
    )
    return dict(
        images_per_s=rate,
        search_s=search_s,
        database=database,
        neighbours=neighbours,
    )


if __name__ == '__main__':
    main()
