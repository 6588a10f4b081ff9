# Copyright (c) mmuss contributors. All rights reserved.
from typing import Sequence, Tuple

import numpy as np

from .legend import append_legend, legend_entries
from .segmentation_panel import colorize_labels

#: (title, label map, names, palette) of one prediction panel.
PredictionPanel = Tuple[str, np.ndarray, Sequence[str], Sequence]


def overlay_labels(
    image_rgb: np.ndarray,
    labels: np.ndarray,
    palette: Sequence[Sequence[int]],
    opacity: float = 0.5,
    ignore_index: int = 255,
) -> np.ndarray:
    """The image with its label map painted over it.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        labels (np.ndarray): (H, W) label map.
        palette (Sequence): RGB colour of each label.
        opacity (float): Weight of the colours, in [0, 1].
        ignore_index (int): Label left unpainted (the image shows).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB picture.
    """
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f'opacity must be in [0, 1], got {opacity}')
    if image_rgb.shape[:2] != labels.shape:
        raise ValueError(
            f'image {image_rgb.shape[:2]} and labels {labels.shape} '
            'must have the same height and width'
        )
    colours = colorize_labels(labels, palette, ignore_index).astype(float)
    blended = (1 - opacity) * image_rgb.astype(float) + opacity * colours
    painted = (np.asarray(labels) >= 0) & (np.asarray(labels) < len(palette))
    painted &= np.asarray(labels) != ignore_index
    out = image_rgb.astype(float).copy()
    out[painted] = blended[painted]
    return out.round().clip(0, 255).astype(np.uint8)


def render_inference_panel(
    image_rgb: np.ndarray,
    predictions: Sequence[PredictionPanel],
    opacity: float = 0.5,
    ignore_index: int = 255,
    separator: int = 4,
) -> np.ndarray:
    """``image | overlay [| overlay ...] | legend`` of a prediction.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        predictions (Sequence): ``(title, labels, names, palette)`` per
            panel (e.g. the cluster probe, the linear probe); the legend
            lists, per panel, the names of the labels it shows.
        opacity (float): Weight of the label colours.
        ignore_index (int): Unmatched / unlabelled value.
        separator (int): Width of the white gaps.

    Returns:
        np.ndarray: (H', W', 3) uint8 RGB picture.
    """
    gap = np.full((image_rgb.shape[0], separator, 3), 255, dtype=np.uint8)
    parts = [image_rgb.astype(np.uint8)]
    sections = []
    for title, labels, names, palette in predictions:
        parts += [
            gap,
            overlay_labels(image_rgb, labels, palette, opacity, ignore_index),
        ]
        entries = legend_entries(labels, names, palette, ignore_index)
        sections.append((title if len(predictions) > 1 else None, entries))
    return append_legend(np.concatenate(parts, axis=1), sections, separator)
