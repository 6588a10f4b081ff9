# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

VOC21_CLASSES = (
    'background',
    'aeroplane',
    'bicycle',
    'bird',
    'boat',
    'bottle',
    'bus',
    'car',
    'cat',
    'chair',
    'cow',
    'diningtable',
    'dog',
    'horse',
    'motorbike',
    'person',
    'pottedplant',
    'sheep',
    'sofa',
    'train',
    'tvmonitor',
)
VOC21_PALETTE = [
    [0, 0, 0],
    [128, 0, 0],
    [0, 128, 0],
    [128, 128, 0],
    [0, 0, 128],
    [128, 0, 128],
    [0, 128, 128],
    [128, 128, 128],
    [64, 0, 0],
    [192, 0, 0],
    [64, 128, 0],
    [192, 128, 0],
    [64, 0, 128],
    [192, 0, 128],
    [64, 128, 128],
    [192, 128, 128],
    [0, 64, 0],
    [128, 64, 0],
    [0, 192, 0],
    [128, 192, 0],
    [0, 64, 128],
]


@DATASETS.register_module()
class PascalVOC21Dataset(BaseUSSDataset):
    """PASCAL VOC 2012 segmentation, 20 object classes and background.

    The object-centric benchmark of MSSSeg's supplementary table (as in
    CAUSE and COMUS). Layout (written by
    ``tools/dataset_converters/pascal_voc.py``)::

        data_root/img_dir/{train,val,trainaug}/<id>.jpg
        data_root/ann_dir/{train,val,trainaug}/<id>.png   (0-20, 255 ignore)
    """

    METAINFO = dict(classes=VOC21_CLASSES, palette=VOC21_PALETTE)

    def __init__(
        self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', **kwargs
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
