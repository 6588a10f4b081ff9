# Copyright (c) mmuss contributors. All rights reserved.

from mmseg.registry import DATASETS

from .base_uss_dataset import BaseUSSDataset
from .synthetic import (
    SYNTHETIC_CLASSES,
    SYNTHETIC_PALETTE,
    generate_synthetic_scenes,
    held_out_seed,
    write_synthetic_depth,
)


@DATASETS.register_module()
class SyntheticScenesDataset(BaseUSSDataset):
    """The embedded default dataset: generated scenes with ground truth.

    Scenes of seven "stuff" classes (sky, vegetation, grass, water, sand,
    building, road) with distinct colour and texture statistics and four
    compact "things" (car, person, ball, sign) at several scales, generated
    deterministically on first use (no download) and then read from disk
    like any mmseg folder dataset (see
    :func:`mmuss.datasets.synthetic.generate_synthetic_scenes`). Splits:
    ``train`` and ``val`` from the generator ``seed``, ``test`` from another
    seed (``test_seed``, a held-out set: evaluating on it checks that a
    model generalises beyond the scenes it was tuned on).

    Args:
        data_root (str): Folder of the dataset; generated if missing.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        generate (bool): Generate the files if missing. Defaults to True.
        seed (int): Generator seed of train and val. Defaults to 0.
        num_train (int): Training scenes. Defaults to 240.
        num_val (int): Validation scenes. Defaults to 48.
        num_test (int): Held-out scenes. Defaults to 0.
        test_seed (int, optional): Their generator seed. Defaults to
            ``seed + 1000``.
        image_size (int): Scene size in pixels. Defaults to 128.
        illumination (float): Per-image lighting strength. Defaults to 0.
        max_things (int): Most objects per scene. Defaults to 4.
        depth_map_dir (str, optional): Also write the synthetic depth
            sensor's 16-bit maps of this split under ``data_root/<dir>``
            (:mod:`mmuss.datasets.synthetic.depth`), where
            :class:`LoadDenseMap` reads them. Defaults to None.
        data_prefix (dict, optional): Defaults to the ``split`` folders.
        **kwargs: :class:`BaseUSSDataset` arguments.
    """

    METAINFO = dict(classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE)
    SPLITS = ('train', 'val', 'test')

    def __init__(
        self,
        data_root: str,
        split: str = 'train',
        generate: bool = True,
        seed: int = 0,
        num_train: int = 240,
        num_val: int = 48,
        num_test: int = 0,
        test_seed: int | None = None,
        image_size: int = 128,
        illumination: float = 0.0,
        max_things: int = 4,
        depth_map_dir: str | None = None,
        data_prefix: dict | None = None,
        **kwargs,
    ) -> None:
        if split not in self.SPLITS:
            raise ValueError(
                f'split must be one of {self.SPLITS}, got {split!r}'
            )
        if split == 'test' and num_test == 0:
            raise ValueError('split="test" needs num_test > 0')
        if generate:
            generate_synthetic_scenes(
                data_root,
                seed,
                num_train,
                num_val,
                image_size,
                illumination,
                max_things,
                num_test,
                test_seed,
            )
        if depth_map_dir:
            write_synthetic_depth(
                data_root,
                seed,
                [split],
                depth_map_dir,
                held_out_seed(seed) if test_seed is None else test_seed,
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
