# Copyright (c) mmuss contributors. All rights reserved.
from .segmentation_panel import colorize_labels, render_segmentation_panel

__all__ = ['colorize_labels', 'render_segmentation_panel']
