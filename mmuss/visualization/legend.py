# Copyright (c) mmuss contributors. All rights reserved.
from typing import List, Sequence, Tuple

import cv2
import numpy as np

#: (name, RGB colour) of one legend row.
LegendEntry = Tuple[str, Sequence[int]]

FONT = cv2.FONT_HERSHEY_SIMPLEX
ROW_HEIGHT = 16
SWATCH = 12
MARGIN = 4
TEXT_SCALE = 0.4


def legend_entries(
    labels: np.ndarray,
    names: Sequence[str],
    palette: Sequence[Sequence[int]],
    ignore_index: int = 255,
    unmatched_name: str | None = 'unmatched',
) -> List[LegendEntry]:
    """Legend rows of the labels that occur in a label map, in id order.

    Args:
        labels (np.ndarray): Label map (class or cluster ids).
        names (Sequence[str]): Name of each id (``'cluster k'`` for
            clusters without a class).
        palette (Sequence): RGB colour of each id.
        ignore_index (int): Id of unlabelled / unmatched pixels, shown
            black as ``unmatched_name`` (None leaves them out).
        unmatched_name (str, optional): Their legend name.

    Returns:
        list[tuple[str, tuple]]: ``(name, colour)`` rows.
    """
    entries = []
    for label in np.unique(np.asarray(labels)).tolist():
        if 0 <= label < len(names) and label != ignore_index:
            entries.append((str(names[label]), tuple(palette[label])))
        elif unmatched_name is not None:
            entries.append((unmatched_name, (0, 0, 0)))
    return entries


def render_legend(
    sections: Sequence[Tuple[str | None, Sequence[LegendEntry]]],
    min_height: int = 0,
) -> np.ndarray:
    """A white column listing colour swatches and names.

    Args:
        sections (Sequence): ``(title, entries)`` pairs; a title (e.g.
            ``'cluster probe'``) is written above its rows when not None.
        min_height (int): Pad the column to at least this height.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB picture.
    """
    lines = []
    for title, entries in sections:
        if title is not None:
            lines.append((title, None))
        lines += [(name, colour) for name, colour in entries]
    text_width = max(
        [cv2.getTextSize(t, FONT, TEXT_SCALE, 1)[0][0] for t, _ in lines]
        or [0]
    )
    width = MARGIN * 3 + SWATCH + text_width
    height = max(min_height, MARGIN * 2 + ROW_HEIGHT * len(lines))
    legend = np.full((height, width, 3), 255, dtype=np.uint8)
    for row, (text, colour) in enumerate(lines):
        top = MARGIN + row * ROW_HEIGHT
        text_x = MARGIN
        if colour is not None:
            cv2.rectangle(
                legend,
                (MARGIN, top + 2),
                (MARGIN + SWATCH - 1, top + 1 + SWATCH),
                tuple(int(c) for c in colour),
                thickness=-1,
            )
            cv2.rectangle(
                legend,
                (MARGIN, top + 2),
                (MARGIN + SWATCH - 1, top + 1 + SWATCH),
                (96, 96, 96),
                thickness=1,
            )
            text_x = MARGIN * 2 + SWATCH
        cv2.putText(
            legend,
            text,
            (text_x, top + SWATCH),
            FONT,
            TEXT_SCALE,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return legend


def append_legend(
    picture: np.ndarray,
    sections: Sequence[Tuple[str | None, Sequence[LegendEntry]]],
    separator: int = 4,
) -> np.ndarray:
    """``picture | legend``; the shorter of the two is padded white below.

    Args:
        picture (np.ndarray): (H, W, 3) uint8 RGB picture.
        sections (Sequence): See :func:`render_legend`.
        separator (int): Width of the white gap.

    Returns:
        np.ndarray: The picture with the legend on its right.
    """
    legend = render_legend(sections, min_height=picture.shape[0])
    height = legend.shape[0]
    if picture.shape[0] < height:
        pad = np.full(
            (height - picture.shape[0], *picture.shape[1:]), 255, np.uint8
        )
        picture = np.concatenate([picture, pad], axis=0)
    gap = np.full((height, separator, 3), 255, dtype=np.uint8)
    return np.concatenate([picture.astype(np.uint8), gap, legend], axis=1)
