# Copyright (c) mmuss contributors. All rights reserved.
"""Segment an image, a folder of images or a video with an mmuss model.

    python tools/demo.py CONFIG CHECKPOINT INPUT OUTPUT [--mapping JSON]
        [--crf] [--probes] [--opacity 0.5] [--device cpu]
        [--cfg-options key=value ...]

Each picture is ``image | prediction overlay | legend``: the legend names
the classes shown when the model carries a cluster-to-class mapping (stored
by ``tools/test.py --save-mapping`` in the checkpoint or the JSON next to
it, or given with --mapping), else ``cluster k``. --probes adds the linear
probe's prediction beside the cluster probe's; --crf refines both with the
dense CRF (``test_cfg.use_crf``).

INPUT is an image (OUTPUT: the picture file), a folder (OUTPUT: a folder
with one PNG per image, in the input's sub-folders; a progress bar shows;
complete existing pictures are skipped, so an interrupted run resumes) or
a video (.mp4, .avi, .mov, .mkv; OUTPUT: a video of the pictures, .mp4 or
.avi, padded white to even sizes). Every file is written atomically.
"""

import argparse
import os
import os.path as osp
from typing import Iterator, List, Tuple

import cv2
import mmcv
import numpy as np
from mmengine.config import DictAction
from mmengine.utils import ProgressBar
from mmseg.apis import inference_model

from mmuss.apis import init_uss_model
from mmuss.models.utils.cluster_mapping import UNMATCHED_LABEL
from mmuss.utils.atomic_io import atomic_path, save_image_atomic
from mmuss.utils.file_checks import reusable_image
from mmuss.visualization import render_inference_panel

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv')
VIDEO_CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='image, folder of images or video')
    parser.add_argument('output', help='picture, folder or video to write')
    parser.add_argument(
        '--mapping',
        help="cluster-to-class mapping JSON (default: the checkpoint's, "
        'else <checkpoint>.cluster_mapping.json if present)',
    )
    parser.add_argument(
        '--crf', action='store_true', help='dense-CRF refinement'
    )
    parser.add_argument(
        '--probes',
        action='store_true',
        help='show the linear probe beside the cluster probe',
    )
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. key1=value1',
    )
    return parser.parse_args()


def build_model(args: argparse.Namespace):
    """The segmentor with its mapping, CRF switched on if asked."""
    options = dict(args.cfg_options or {})
    if args.crf:
        options['model.test_cfg.use_crf'] = True
    model = init_uss_model(
        args.config, args.checkpoint, args.device, options, args.mapping
    )
    if args.probes and model.linear_probe is None:
        raise ValueError(
            f'--probes needs a linear probe, but the model of '
            f'{args.config} has none (model.linear_probe=None)'
        )
    return model


def predict_picture(
    model, image_bgr: np.ndarray, probes: bool, opacity: float
) -> np.ndarray:
    """The demo picture (RGB) of one BGR image."""
    result = inference_model(model, image_bgr)
    panels = [
        (
            'cluster probe',
            result.pred_sem_seg.data[0].cpu().numpy(),
            *_names_and_palette(model.dataset_meta),
        )
    ]
    if probes:
        panels.append(
            (
                'linear probe',
                result.pred_linear_sem_seg.data[0].cpu().numpy(),
                *_names_and_palette(model.class_meta),
            )
        )
    return render_inference_panel(
        image_bgr[..., ::-1], panels, opacity, UNMATCHED_LABEL
    )


def _names_and_palette(meta: dict) -> Tuple[list, list]:
    return list(meta['classes']), list(meta['palette'])


def list_images(folder: str) -> List[str]:
    """Image files under ``folder`` (recursive), relative and sorted."""
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(osp.relpath(osp.join(root, name), folder))
    if not found:
        raise FileNotFoundError(
            f'no image ({", ".join(IMAGE_EXTENSIONS)}) under {folder}'
        )
    return sorted(found)


def read_image(path: str) -> np.ndarray:
    """A BGR image, or a clear error naming the file."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read image {path}')
    return image


def demo_image(model, args: argparse.Namespace) -> None:
    picture = predict_picture(
        model, read_image(args.input), args.probes, args.opacity
    )
    save_image_atomic(picture, args.output)


def demo_folder(model, args: argparse.Namespace) -> None:
    names = list_images(args.input)
    progress = ProgressBar(len(names))
    for name in names:
        target = osp.join(args.output, osp.splitext(name)[0] + '.png')
        if not reusable_image(target):
            image = read_image(osp.join(args.input, name))
            picture = predict_picture(model, image, args.probes, args.opacity)
            save_image_atomic(picture, target)
        progress.update()


def video_frames(path: str) -> Iterator[np.ndarray]:
    """BGR frames of a video."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(f'cannot open video {path}')
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def pad_to_even(picture: np.ndarray) -> np.ndarray:
    """Pad a picture white to even height and width (video codecs such
    as MJPG and mp4v drop an odd last column)."""
    height, width = picture.shape[:2]
    return np.pad(
        picture,
        ((0, height % 2), (0, width % 2), (0, 0)),
        constant_values=255,
    )


def demo_video(model, args: argparse.Namespace) -> None:
    extension = osp.splitext(args.output)[1].lower()
    if extension not in VIDEO_CODECS:
        raise ValueError(
            f'video output {args.output} must end with one of '
            f'{sorted(VIDEO_CODECS)}'
        )
    reader = mmcv.VideoReader(args.input)
    fps, count = reader.fps or 25.0, reader.frame_cnt
    progress = ProgressBar(count) if count > 0 else None
    with atomic_path(args.output) as tmp_path:
        writer = None
        for frame in video_frames(args.input):
            picture = predict_picture(model, frame, args.probes, args.opacity)
            picture = pad_to_even(picture)[..., ::-1]
            if writer is None:
                writer = cv2.VideoWriter(
                    tmp_path,
                    cv2.VideoWriter_fourcc(*VIDEO_CODECS[extension]),
                    fps,
                    (picture.shape[1], picture.shape[0]),
                )
            writer.write(np.ascontiguousarray(picture))
            if progress is not None:
                progress.update()
        if writer is None:
            raise ValueError(f'video {args.input} has no frame')
        writer.release()


def main() -> None:
    args = parse_args()
    if not osp.exists(args.input):
        raise FileNotFoundError(f'input {args.input} does not exist')
    model = build_model(args)
    if osp.isdir(args.input):
        demo_folder(model, args)
    elif args.input.lower().endswith(VIDEO_EXTENSIONS):
        demo_video(model, args)
    else:
        demo_image(model, args)


if __name__ == '__main__':
    main()
