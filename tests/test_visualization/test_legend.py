# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np

from mmuss.visualization import append_legend, legend_entries, render_legend
from mmuss.visualization.legend import MARGIN, ROW_HEIGHT, SWATCH

NAMES = ['cluster 0', 'cluster 1', 'cluster 2']
PALETTE = [[10, 20, 30], [40, 50, 60], [70, 80, 90]]


def test_entries_list_the_labels_present_in_id_order():
    labels = np.array([[2, 0], [255, 2]])
    assert legend_entries(labels, NAMES, PALETTE) == [
        ('cluster 0', (10, 20, 30)),
        ('cluster 2', (70, 80, 90)),
        ('unmatched', (0, 0, 0)),
    ]
    assert legend_entries(labels, NAMES, PALETTE, unmatched_name=None) == [
        ('cluster 0', (10, 20, 30)),
        ('cluster 2', (70, 80, 90)),
    ]


def test_legend_rows_hold_swatches_of_the_colours():
    legend = render_legend(
        [('probe', [('cluster 0', (10, 20, 30)), ('x', (70, 80, 90))])]
    )
    # title row, then one row per entry
    assert legend.shape[0] == 2 * MARGIN + 3 * ROW_HEIGHT
    for row, colour in ((1, (10, 20, 30)), (2, (70, 80, 90))):
        centre_y = MARGIN + row * ROW_HEIGHT + 2 + SWATCH // 2
        centre_x = MARGIN + SWATCH // 2
        assert tuple(legend[centre_y, centre_x]) == colour
    # the title row is grey text only, no coloured swatch
    title = legend[MARGIN : MARGIN + ROW_HEIGHT].astype(int)
    assert (title[..., 0] == title[..., 1]).all()
    assert (title[..., 1] == title[..., 2]).all()
    assert (title < 255).any()


def test_append_legend_pads_the_shorter_part():
    picture = np.zeros((5, 7, 3), np.uint8)
    out = append_legend(picture, [(None, [('a', (1, 2, 3))])], separator=2)
    legend = render_legend([(None, [('a', (1, 2, 3))])])
    assert out.shape == (legend.shape[0], 7 + 2 + legend.shape[1], 3)
    assert (out[:5, :7] == 0).all() and (out[5:, :7] == 255).all()
    assert (out[:, 9:] == legend).all()
