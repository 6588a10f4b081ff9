# Copyright (c) mmuss contributors. All rights reserved.
import os
import sys

from mmengine.registry import init_default_scope

import mmuss  # noqa: F401  (registers the modules)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests'))
init_default_scope('mmseg')
