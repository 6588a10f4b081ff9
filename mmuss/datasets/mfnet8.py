# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

MFNET8_CLASSES = (
    'car',
    'person',
    'bike',
    'curve',
    'car stop',
    'guardrail',
    'color cone',
    'bump',
)
MFNET8_PALETTE = [
    [64, 0, 128],
    [64, 64, 0],
    [0, 128, 192],
    [0, 0, 192],
    [128, 128, 0],
    [64, 64, 128],
    [192, 128, 128],
    [192, 64, 0],
]


@DATASETS.register_module()
class MFNet8Dataset(BaseUSSDataset):
    """MFNet RGB-thermal urban scenes with 8 classes (UniM2).

    The 1,569 RGB-T images of Ha et al. (IROS 2017), 784 train / 392 val /
    393 test; the 9 label ids are "unlabeled" (ignored) and the 8 classes.
    The thermal image is loaded as a modality replicated to 3 channels
    (``LoadModality(name='thermal', modality_dir='thermal',
    encoding='replicate')``). Layout (written by
    ``tools/dataset_converters/mfnet.py``, which splits the official
    4-channel PNGs)::

        data_root/img_dir/all/<id>.png            RGB
        data_root/ann_dir/all/<id>.png            8 classes, 255 ignore
        data_root/thermal/img_dir/all/<id>.png    thermal (8 bit)
        data_root/splits/{train,val,test}.txt
    """

    METAINFO = dict(classes=MFNET8_CLASSES, palette=MFNET8_PALETTE)

    def __init__(
        self, img_suffix: str = '.png', seg_map_suffix: str = '.png', **kwargs
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
