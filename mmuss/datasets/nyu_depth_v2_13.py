# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

NYU13_CLASSES = (
    'bed',
    'books',
    'ceiling',
    'chair',
    'floor',
    'furniture',
    'objects',
    'picture',
    'sofa',
    'table',
    'tv',
    'wall',
    'window',
)
NYU13_PALETTE = [
    [107, 142, 35],
    [220, 220, 0],
    [70, 130, 180],
    [128, 64, 128],
    [152, 251, 152],
    [244, 35, 232],
    [190, 153, 153],
    [250, 170, 30],
    [255, 0, 0],
    [220, 20, 60],
    [0, 0, 142],
    [70, 70, 70],
    [153, 153, 153],
]


@DATASETS.register_module()
class NYUDepthV2Dataset(BaseUSSDataset):
    """NYU-Depth-v2 with the 13 classes of UniM2 (RGB + HHA depth).

    The 1,449 densely labelled indoor images (795 train / 654 test) of
    Silberman et al. (ECCV 2012); the 40 classes of Gupta et al. are merged
    into 13 (:data:`~mmuss.datasets.preparation.NYU40_TO_13`), void is
    ignored. The depth modality is the 3-channel HHA encoding, loaded with
    ``LoadModality(name='hha', modality_dir='hha')``. Layout (written by
    ``tools/dataset_converters/nyu_depth_v2.py``)::

        data_root/img_dir/all/<id>.png        RGB
        data_root/ann_dir/all/<id>.png        13 classes, 255 ignore
        data_root/hha/img_dir/all/<id>.png    HHA
        data_root/splits/{train,test}.txt
    """

    METAINFO = dict(classes=NYU13_CLASSES, palette=NYU13_PALETTE)

    def __init__(
        self, img_suffix: str = '.png', seg_map_suffix: str = '.png', **kwargs
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
