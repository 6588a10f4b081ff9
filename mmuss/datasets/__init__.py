# Copyright (c) mmuss contributors. All rights reserved.
from .base_uss_dataset import BaseUSSDataset, SampleLoadError
from .cityscapes27 import Cityscapes27Dataset
from .cocostuff27 import COCOStuff27Dataset
from .knn_pair_dataset import KNNPairDataset
from .mastr1325 import MaSTr1325Dataset
from .mcubes20 import MCubeS20Dataset
from .mfnet8 import MFNet8Dataset
from .nyu_depth_v2_13 import NYUDepthV2Dataset
from .pascal_voc21 import PascalVOC21Dataset
from .potsdam3 import Potsdam3Dataset
from .synthetic_scene_images import SyntheticSceneImages
from .synthetic_scenes import SyntheticScenesDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'BaseUSSDataset',
    'SampleLoadError',
    'Cityscapes27Dataset',
    'COCOStuff27Dataset',
    'KNNPairDataset',
    'MaSTr1325Dataset',
    'MCubeS20Dataset',
    'MFNet8Dataset',
    'NYUDepthV2Dataset',
    'PascalVOC21Dataset',
    'Potsdam3Dataset',
    'SyntheticSceneImages',
    'SyntheticScenesDataset',
]
