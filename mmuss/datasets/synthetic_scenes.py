# Copyright (c) mmuss contributors. All rights reserved.

from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset
from .synthetic import (
    SYNTHETIC_CLASSES,
    SYNTHETIC_PALETTE,
    generate_synthetic_scenes,
)


@DATASETS.register_module()
class SyntheticScenesDataset(BaseUSSDataset):
    """The embedded default dataset: generated scenes with ground truth.

    Scenes of regions from six classes (sky, vegetation, water, sand,
    brick, road) with distinct colour and texture statistics, generated
    deterministically on first use (no download) and then read from disk
    like any mmseg folder dataset (see
    :func:`mmuss.datasets.synthetic.generate_synthetic_scenes`).

    Args:
        data_root (str): Folder of the dataset; generated if missing.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        generate (bool): Generate the files if missing. Defaults to True.
        seed (int): Generator seed. Defaults to 0.
        num_train (int): Training scenes. Defaults to 240.
        num_val (int): Validation scenes. Defaults to 48.
        image_size (int): Scene size in pixels. Defaults to 128.
        illumination (float): Per-image lighting strength. Defaults to 0.
        data_prefix (dict, optional): Defaults to the ``split`` folders.
        **kwargs: :class:`BaseUSSDataset` arguments.
    """

    METAINFO = dict(classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE)

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        generate: bool = True,
        seed: int = 0,
        num_train: int = 240,
        num_val: int = 48,
        image_size: int = 128,
        illumination: float = 0.0,
        data_prefix: dict | None = None,
        **kwargs,
    ) -> None:
        if split not in ('train', 'val'):
            raise ValueError(f'split must be "train" or "val", got {split!r}')
        if generate:
            generate_synthetic_scenes(
                data_root, seed, num_train, num_val, image_size, illumination
            )
        if data_prefix is None:
            data_prefix = dict(
                img_path=f'images/{split}', seg_map_path=f'annotations/{split}'
            )
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix='.png',
            seg_map_suffix='.png',
            **kwargs,
        )
