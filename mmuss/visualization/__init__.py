# Copyright (c) mmuss contributors. All rights reserved.
from .inference_panel import overlay_labels, render_inference_panel
from .legend import append_legend, legend_entries, render_legend
from .segmentation_panel import colorize_labels, render_segmentation_panel

__all__ = [
    'append_legend',
    'colorize_labels',
    'legend_entries',
    'overlay_labels',
    'render_inference_panel',
    'render_legend',
    'render_segmentation_panel',
]
