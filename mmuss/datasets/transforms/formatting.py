# Copyright (c) mmuss contributors. All rights reserved.
from typing import Sequence

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackUSSInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` that also packs extra images and maps.

    ``image_fields`` (e.g. the ``student_img`` of :class:`PhotometricView`)
    are packed like ``inputs`` (uint8 CHW) and ``map_fields`` (e.g. the
    ``primaps_map`` of :class:`LoadPseudoMask`) as (1, H, W) int64, both as
    ``PixelData`` fields of the data sample under the same names. The
    ``random_fields`` of random transforms and the ``aux_channels`` of
    :class:`LoadDenseMap` (dense maps stacked onto the image, packed with it
    as float ``inputs``) go to the metainfo.

    Args:
        image_fields (Sequence[str]): Extra image keys.
        map_fields (Sequence[str]): Extra map keys.
        **kwargs: ``PackSegInputs`` arguments (``meta_keys``).
    """

    def __init__(
        self,
        image_fields: Sequence[str] = (),
        map_fields: Sequence[str] = (),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.image_fields = tuple(image_fields)
        self.map_fields = tuple(map_fields)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        sample = packed['data_samples']
        if results.get('random_fields'):
            sample.set_metainfo(
                {'random_fields': tuple(results['random_fields'])}
            )
        if results.get('aux_channels'):
            sample.set_metainfo(
                {'aux_channels': tuple(map(tuple, results['aux_channels']))}
            )
        for key in self.image_fields:
            image = results[key]
            if image.ndim == 2:
                image = image[..., None]
            sample.set_data(
                {
                    key: PixelData(
                        data=torch.from_numpy(
                            np.ascontiguousarray(image.transpose(2, 0, 1))
                        )
                    )
                }
            )
        for key in self.map_fields:
            sample.set_data(
                {
                    key: PixelData(
                        data=torch.from_numpy(
                            results[key][None].astype(np.int64)
                        )
                    )
                }
            )
        return packed
