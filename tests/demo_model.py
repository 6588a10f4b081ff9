# Copyright (c) mmuss contributors. All rights reserved.
"""The baseline demo model, trained shrunk through tools/train.py, for the
inference tests."""

import os.path as osp
import shutil

from helpers import DEMO_CONFIG, run_tool
from test_tools.test_method_demos import shrink_options


def train_demo_model(folder):
    """Train the demo 2 steps on 64-px scenes; return (config, checkpoint,
    test images folder)."""
    work = folder / 'work'
    run_tool(
        'train.py',
        DEMO_CONFIG,
        '--work-dir',
        work,
        '--cfg-options',
        *shrink_options(folder / 'data'),
    )
    config = work / osp.basename(DEMO_CONFIG)
    checkpoint = folder / 'demo.pth'
    shutil.copy(work / 'iter_2.pth', checkpoint)
    return str(config), str(checkpoint), folder / 'data' / 'images' / 'test'
