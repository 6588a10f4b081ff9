# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

CITYSCAPES27_CLASSES = (
    'road',
    'sidewalk',
    'parking',
    'rail track',
    'building',
    'wall',
    'fence',
    'guard rail',
    'bridge',
    'tunnel',
    'pole',
    'polegroup',
    'traffic light',
    'traffic sign',
    'vegetation',
    'terrain',
    'sky',
    'person',
    'rider',
    'car',
    'truck',
    'bus',
    'caravan',
    'trailer',
    'train',
    'motorcycle',
    'bicycle',
)
CITYSCAPES27_PALETTE = [
    [128, 64, 128],
    [244, 35, 232],
    [250, 170, 160],
    [230, 150, 140],
    [70, 70, 70],
    [102, 102, 156],
    [190, 153, 153],
    [180, 165, 180],
    [150, 100, 100],
    [150, 120, 90],
    [153, 153, 153],
    [153, 153, 154],
    [250, 170, 30],
    [220, 220, 0],
    [107, 142, 35],
    [152, 251, 152],
    [70, 130, 180],
    [220, 20, 60],
    [255, 0, 0],
    [0, 0, 142],
    [0, 0, 70],
    [0, 60, 100],
    [0, 0, 90],
    [0, 0, 110],
    [0, 80, 100],
    [0, 0, 230],
    [119, 11, 32],
]


@DATASETS.register_module()
class Cityscapes27Dataset(BaseUSSDataset):
    """Cityscapes with the 27 classes of the unsupervised protocol.

    ``gtFine`` labelIds 7-33 become classes 0-26 (labelId - 7); every other
    id is ignored. Unlike the 19-class protocol, parking, rail track, guard
    rail, bridge, tunnel, polegroup, caravan and trailer are kept. Layout
    (written by ``tools/dataset_converters/cityscapes27.py``)::

        data_root/leftImg8bit/{train,val}/<city>/<name>_leftImg8bit.png
        data_root/gtFine/{train,val}/<city>/<name>_gtFine_labelTrainIds27.png
    """

    METAINFO = dict(classes=CITYSCAPES27_CLASSES, palette=CITYSCAPES27_PALETTE)

    def __init__(
        self,
        img_suffix: str = '_leftImg8bit.png',
        seg_map_suffix: str = '_gtFine_labelTrainIds27.png',
        **kwargs,
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
