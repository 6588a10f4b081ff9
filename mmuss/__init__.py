# Copyright (c) mmuss contributors. All rights reserved.
"""mmuss: unsupervised semantic segmentation for mmsegmentation.

Importing the package registers its models, datasets, transforms, metrics,
hooks and optimizer constructors into mmsegmentation's registries, makes
MMEngine checkpoint loading safe under ``weights_only=True`` and MMEngine's
local file writes (checkpoints included) atomic.
"""

from .utils.atomic_io import register_atomic_local_backend
from .utils.checkpoint_safety import register_safe_checkpoint_loading
from .version import __version__, version_info

register_safe_checkpoint_loading()
register_atomic_local_backend()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__', 'version_info']
