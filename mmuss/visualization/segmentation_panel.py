# Copyright (c) mmuss contributors. All rights reserved.
from typing import Sequence

import numpy as np

IGNORE_COLOR = (0, 0, 0)


def colorize_labels(
    labels: np.ndarray,
    palette: Sequence[Sequence[int]],
    ignore_index: int = 255,
) -> np.ndarray:
    """Paint a label map with a palette.

    Args:
        labels (np.ndarray): (H, W) integer labels.
        palette (Sequence): RGB colour of each class.
        ignore_index (int): Label painted black; so is any label outside the
            palette (e.g. unmatched clusters).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[: len(palette)] = np.asarray(palette, dtype=np.uint8)[:256]
    labels = np.asarray(labels).astype(np.int64)
    invalid = (
        (labels < 0) | (labels >= len(palette)) | (labels == ignore_index)
    )
    colored = lut[np.clip(labels, 0, 255)]
    colored[invalid] = IGNORE_COLOR
    return colored


def render_segmentation_panel(
    image_rgb: np.ndarray,
    gt: np.ndarray,
    pred: np.ndarray,
    palette: Sequence[Sequence[int]],
    ignore_index: int = 255,
    separator: int = 4,
) -> np.ndarray:
    """Side-by-side picture ``image | ground truth | prediction``.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        gt (np.ndarray): (H, W) ground-truth classes.
        pred (np.ndarray): (H, W) predicted classes (clusters already mapped
            to classes); -1 and ``ignore_index`` are painted black.
        palette (Sequence): RGB colour of each class.
        ignore_index (int): Unlabelled value. Defaults to 255.
        separator (int): Width of the white gap between panels.

    Returns:
        np.ndarray: (H, 3W + 2*separator, 3) uint8 RGB image.
    """
    if image_rgb.shape[:2] != gt.shape or gt.shape != pred.shape:
        raise ValueError(
            f'image {image_rgb.shape[:2]}, ground truth '
            f'{gt.shape} and prediction {pred.shape} must have '
            'the same height and width'
        )
    gap = np.full((gt.shape[0], separator, 3), 255, dtype=np.uint8)
    return np.concatenate(
        [
            image_rgb.astype(np.uint8),
            gap,
            colorize_labels(gt, palette, ignore_index),
            gap,
            colorize_labels(pred, palette, ignore_index),
        ],
        axis=1,
    )
