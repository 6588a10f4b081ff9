# Copyright (c) mmuss contributors. All rights reserved.
"""Precompute PriMaPs mask proposals for the training images of a config.

    python tools/precompute_primaps.py CONFIG [--resolution 320]
        [--psi PSI] [--coverage 0.95] [--no-crf] [--crf-workers N]
        [--batch-size 16] [--num-workers 4] [--device cuda]

Every training image is resized (short side) and centre-cropped to
--resolution (default: the pipeline's ResizeCenterCrop), embedded by the
config's frozen backbone (the feature map the head reads), decomposed into
principal mask proposals (PriMaPs Eqs. 2-8), refined by the dense CRF at
image resolution and written as a uint8 PNG of mask ids (255 = no mask) to
<data_root>/<mask_dir>/<image path>.png, where mask_dir is the one of the
config's LoadPseudoMask transform. Files are written atomically and
complete existing ones are skipped (a map that does not decode or has
the wrong size is rebuilt, with a warning naming it), so an interrupted run
resumes; the CRF runs in
--crf-workers processes.
"""

import argparse
import time

import torch
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader, Subset

from mmuss.datasets.transforms import pseudo_mask_path
from mmuss.models.utils import DenseCRF
from mmuss.models.utils.primaps import (
    principal_mask_proposals,
    refine_proposals,
)
from mmuss.utils.atomic_io import save_image_atomic
from mmuss.utils.file_checks import reusable_image
from mmuss.utils.offline_tool import (
    load_tool_config,
    offline_tool_parser,
    unwrap_dataset_cfg,
)


def parse_args() -> argparse.Namespace:
    parser = offline_tool_parser(__doc__.splitlines()[0])
    parser.add_argument('--resolution', type=int)
    parser.add_argument(
        '--psi',
        type=float,
        help="threshold of Eq. 6; default: the config's decode_head.psi, "
        'else 0.4 (the paper)',
    )
    parser.add_argument('--coverage', type=float, default=0.95)
    parser.add_argument('--no-crf', action='store_true')
    parser.add_argument('--crf-workers', type=int)
    return parser.parse_args()


def mask_loader_settings(dataset_cfg: dict):
    """(mask_dir, crop size) of the pipeline's LoadPseudoMask and
    ResizeCenterCrop transforms."""
    mask_dir = resolution = None
    for transform in dataset_cfg.get('pipeline', []):
        if transform['type'] == 'LoadPseudoMask':
            mask_dir = transform['mask_dir']
        if transform['type'] == 'ResizeCenterCrop':
            resolution = transform.get('crop_size') or transform['size']
    if mask_dir is None:
        raise ValueError(
            'the training pipeline has no LoadPseudoMask; '
            'there is nowhere to write the proposals'
        )
    return mask_dir, resolution


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args)
    dataset_cfg, _ = unwrap_dataset_cfg(cfg, args.dataloader)
    mask_dir, resolution = mask_loader_settings(dataset_cfg)
    psi = args.psi
    if psi is None:
        psi = cfg.model.get('decode_head', {}).get('psi', 0.4)
    resolution = args.resolution or resolution
    dataset_cfg['pipeline'] = [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeCenterCrop', size=resolution),
        dict(type='PackSegInputs'),
    ]
    dataset = DATASETS.build(dataset_cfg)
    root = dataset.data_root or ''
    targets = [
        pseudo_mask_path(dataset.get_data_info(i)['img_path'], root, mask_dir)
        for i in range(len(dataset))
    ]
    # existing maps are kept only when they decode and have the crop size
    todo = [
        i
        for i, path in enumerate(targets)
        if not reusable_image(path, (resolution, resolution))
    ]
    print(
        f'{len(dataset) - len(todo)} of {len(dataset)} maps exist and are '
        f'complete; computing {len(todo)}'
    )
    if not todo:
        return
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device).eval()
    crf = None if args.no_crf else DenseCRF(num_workers=args.crf_workers)
    loader = DataLoader(
        Subset(dataset, todo),
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        collate_fn=pseudo_collate,
    )
    start, done = time.time(), 0
    positions = iter(todo)
    for batch in loader:
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            feats = model.decode_head._transform_inputs(
                model.extract_feat(model.image_inputs(data['inputs']))
            )
            ids = principal_mask_proposals(feats, psi, args.coverage)
        # colour channels (BGR -> RGB); dense maps may follow them
        images = torch.stack(batch['inputs'])[:, [2, 1, 0]].permute(0, 2, 3, 1)
        if images.is_floating_point():
            images = images.round().clamp(0, 255).byte()
        maps = refine_proposals(ids.cpu(), images, crf)
        for mask in maps:
            save_image_atomic(mask.numpy(), targets[next(positions)])
        done += len(maps)
        print(
            f'{done}/{len(todo)} ({done / (time.time() - start):.2f} '
            'images/s)',
            flush=True,
        )


if __name__ == '__main__':
    main()
