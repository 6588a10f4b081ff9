# Copyright (c) mmuss contributors. All rights reserved.
from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS as PRETRAIN_DATASETS

from .synthetic import generate_synthetic_scenes


@PRETRAIN_DATASETS.register_module()
class SyntheticSceneImages(CustomDataset):
    """Unlabelled synthetic scenes for self-supervised pretraining.

    The image source of the embedded demo's self-supervised backbone: an
    mmpretrain dataset (registered in mmpretrain's registry, for configs with
    ``default_scope='mmpretrain'``) of ``num_images`` scenes of the
    generator (:func:`generate_synthetic_scenes`), by default from a seed of
    their own, so the backbone never sees the segmentation scenes it is
    later evaluated on, as DINO is pretrained on ImageNet rather than on
    COCO-Stuff. Generated on first use; labels are never read.

    Args:
        data_root (str): Folder of the scenes; generated if missing.
        seed (int): Generator seed. Defaults to 100.
        num_images (int): Scenes. Defaults to 2000.
        image_size (int): Scene size. Defaults to 128.
        generate (bool): Generate the files if missing. Defaults to True.
        **kwargs: mmpretrain ``CustomDataset`` arguments (``pipeline``, ...).
    """

    def __init__(
        self,
        data_root: str,
        seed: int = 100,
        num_images: int = 2000,
        image_size: int = 128,
        generate: bool = True,
        **kwargs,
    ) -> None:
        if generate:
            generate_synthetic_scenes(
                data_root, seed, num_images, 0, image_size
            )
        super().__init__(
            data_root=data_root,
            data_prefix='images/train',
            with_label=False,
            **kwargs,
        )
