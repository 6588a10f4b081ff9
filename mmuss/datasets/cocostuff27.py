# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

COCOSTUFF27_CLASSES = (
    'electronic',
    'appliance',
    'food-things',
    'furniture-things',
    'indoor',
    'kitchen',
    'accessory',
    'animal',
    'outdoor',
    'person',
    'sports',
    'vehicle',
    'ceiling',
    'floor',
    'food-stuff',
    'furniture-stuff',
    'rawmaterial',
    'textile',
    'wall',
    'window',
    'building',
    'ground',
    'plant',
    'sky',
    'solid',
    'structural',
    'water',
)
COCOSTUFF27_PALETTE = [
    [0, 192, 64],
    [0, 64, 96],
    [128, 192, 192],
    [0, 64, 64],
    [0, 192, 224],
    [0, 192, 192],
    [128, 192, 64],
    [0, 192, 96],
    [128, 32, 192],
    [0, 0, 224],
    [0, 0, 64],
    [0, 160, 192],
    [192, 160, 128],
    [192, 192, 0],
    [128, 64, 64],
    [192, 128, 64],
    [128, 0, 0],
    [64, 128, 192],
    [128, 128, 128],
    [64, 64, 192],
    [192, 64, 64],
    [128, 96, 0],
    [0, 160, 0],
    [128, 192, 224],
    [96, 96, 96],
    [64, 160, 128],
    [0, 64, 192],
]


@DATASETS.register_module()
class COCOStuff27Dataset(BaseUSSDataset):
    """COCO-Stuff with the 27 coarse classes of IIC / STEGO.

    The 182 fine COCO-Stuff-164k classes merged into 12 "thing" (ids 0-11)
    and 15 "stuff" (ids 12-26) super-categories. Layout (written by
    ``tools/dataset_converters/cocostuff27.py``)::

        data_root/images/{train2017,val2017}/<id>.jpg
        data_root/annotations/{train2017,val2017}/<id>_labelTrainIds27.png

    The curated IIC image lists select the evaluation subsets: pass
    ``ann_file='curated/val2017/Coco164kFull_Stuff_Coarse_7.txt'`` (2,175 val
    images) or the train list (49,629 images).
    """

    METAINFO = dict(classes=COCOSTUFF27_CLASSES, palette=COCOSTUFF27_PALETTE)

    def __init__(
        self,
        img_suffix: str = '.jpg',
        seg_map_suffix: str = '_labelTrainIds27.png',
        **kwargs,
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
