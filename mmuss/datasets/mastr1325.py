# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

MASTR1325_CLASSES = ('obstacles and environment', 'water', 'sky')
MASTR1325_PALETTE = [[247, 195, 37], [41, 167, 224], [90, 75, 164]]


@DATASETS.register_module()
class MaSTr1325Dataset(BaseUSSDataset):
    """MaSTr1325 maritime scenes with 3 classes (IL2Vseg's fourth dataset).

    Obstacles and environment, water and sky; the "unknown" mask value is
    ignored. Layout (written by ``tools/dataset_converters/mastr1325.py``)::

        data_root/img_dir/all/<id>.jpg
        data_root/ann_dir/all/<id>.png
        data_root/splits/{all,train,val}.txt
    """

    METAINFO = dict(classes=MASTR1325_CLASSES, palette=MASTR1325_PALETTE)

    def __init__(
        self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', **kwargs
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
