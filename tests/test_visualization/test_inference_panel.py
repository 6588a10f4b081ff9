# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest

from mmuss.visualization import (
    legend_entries,
    overlay_labels,
    render_inference_panel,
    render_legend,
)

PALETTE = [[200, 0, 0], [0, 100, 0]]


def test_overlay_blends_colours_and_leaves_unmatched_pixels():
    image = np.full((1, 3, 3), 100, np.uint8)
    labels = np.array([[0, 1, 255]])
    out = overlay_labels(image, labels, PALETTE, opacity=0.25)
    # 0.75 * 100 + 0.25 * colour
    assert out[0, 0].tolist() == [125, 75, 75]
    assert out[0, 1].tolist() == [75, 100, 75]
    assert out[0, 2].tolist() == [100, 100, 100]
    with pytest.raises(ValueError, match='opacity'):
        overlay_labels(image, labels, PALETTE, opacity=1.5)


def test_panel_is_image_overlays_and_titled_legends():
    image = np.full((4, 4, 3), 50, np.uint8)
    clusters = np.zeros((4, 4), np.int64)
    classes = np.ones((4, 4), np.int64)
    panel = render_inference_panel(
        image,
        [
            ('cluster probe', clusters, ['cluster 0', 'cluster 1'], PALETTE),
            ('linear probe', classes, ['sky', 'road'], PALETTE),
        ],
        opacity=1.0,
        separator=2,
    )
    assert (panel[:4, :4] == 50).all()
    assert (panel[:4, 6:10] == PALETTE[0]).all()
    assert (panel[:4, 12:16] == PALETTE[1]).all()
    legend = render_legend(
        [
            (
                'cluster probe',
                legend_entries(clusters, ['cluster 0'], PALETTE),
            ),
            ('linear probe', [('road', (0, 100, 0))]),
        ]
    )
    assert (panel[: legend.shape[0], 18:] == legend).all()
