# Copyright (c) mmuss contributors. All rights reserved.
from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset

MCUBES20_CLASSES = (
    'asphalt',
    'concrete',
    'metal',
    'road marking',
    'fabric',
    'glass',
    'plaster',
    'plastic',
    'rubber',
    'sand',
    'gravel',
    'ceramic',
    'cobblestone',
    'brick',
    'grass',
    'wood',
    'leaf',
    'water',
    'human',
    'sky',
)
MCUBES20_PALETTE = [
    [44, 160, 44],
    [31, 119, 180],
    [255, 127, 14],
    [214, 39, 40],
    [140, 86, 75],
    [127, 127, 127],
    [188, 189, 34],
    [255, 152, 150],
    [23, 190, 207],
    [174, 199, 232],
    [196, 156, 148],
    [197, 176, 213],
    [247, 182, 210],
    [199, 199, 199],
    [219, 219, 141],
    [158, 218, 229],
    [57, 59, 121],
    [107, 110, 207],
    [156, 158, 222],
    [99, 121, 57],
]


@DATASETS.register_module()
class MCubeS20Dataset(BaseUSSDataset):
    """MCubeS multimodal material segmentation with 20 classes (UniM2).

    The 500 image sets of Liang et al. (CVPR 2022), 302 train / 96 val /
    102 test: RGB, angle and degree of linear polarisation (AoLP, DoLP) and
    near infrared (NIR), each stored by the converter as an 8-bit PNG
    already encoded as UniM2 does (AoLP as (sin, cos, sin), DoLP and NIR
    single-channel, replicated at loading). Layout (written by
    ``tools/dataset_converters/mcubes.py``, left 192 columns dropped)::

        data_root/img_dir/all/<id>.png             RGB
        data_root/ann_dir/all/<id>.png             20 classes, 255 ignore
        data_root/{aolp,dolp,nir}/img_dir/all/<id>.png
        data_root/splits/{train,val,test}.txt
    """

    METAINFO = dict(classes=MCUBES20_CLASSES, palette=MCUBES20_PALETTE)

    def __init__(
        self, img_suffix: str = '.png', seg_map_suffix: str = '.png', **kwargs
    ) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs
        )
