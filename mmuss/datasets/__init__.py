# Copyright (c) mmuss contributors. All rights reserved.
from .base_uss_dataset import BaseUSSDataset, SampleLoadError
from .cityscapes27 import Cityscapes27Dataset
from .cocostuff27 import COCOStuff27Dataset
from .potsdam3 import Potsdam3Dataset
from .synthetic_scenes import SyntheticScenesDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'BaseUSSDataset',
    'SampleLoadError',
    'Cityscapes27Dataset',
    'COCOStuff27Dataset',
    'Potsdam3Dataset',
    'SyntheticScenesDataset',
]
