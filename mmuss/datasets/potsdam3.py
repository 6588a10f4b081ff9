# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

POTSDAM3_CLASSES = (
    'roads and cars',
    'buildings and clutter',
    'trees and vegetation',
)
POTSDAM3_PALETTE = [[255, 255, 255], [0, 0, 255], [0, 255, 0]]


@DATASETS.register_module()
class Potsdam3Dataset(BaseUSSDataset):
    """ISPRS Potsdam patches of IIC with 3 merged classes.

    The 200x200 patches of IIC; the six ISPRS classes are merged into
    {road, car}, {building, clutter} and {tree, low vegetation}. Layout
    (written by ``tools/dataset_converters/potsdam3.py``)::

        data_root/img_dir/{train,val,unlabelled}/<id>.png
        data_root/ann_dir/{train,val}/<id>.png

    The unlabelled patches can be added to training (e.g. with
    ``ConcatDataset``); their samples have no ground truth, so the linear
    probe skips batches that contain them.
    """

    METAINFO = dict(classes=POTSDAM3_CLASSES, palette=POTSDAM3_PALETTE)
    # The protocol trains on whole patches (STEGO, PriMaPs).
    ALLOW_FIVE_CROP = False

    def __init__(
        self, img_suffix: str = '.png', seg_map_suffix: str = '.png', **kwargs
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
