# Copyright (c) mmuss contributors. All rights reserved.
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from mmuss.utils.file_checks import MissingDerivedFileError

from .derived_files import derived_file_path, sample_data_root


def pseudo_mask_path(img_path: str, data_root: str, mask_dir: str) -> str:
    """Where an offline tool stores the mask map of ``img_path``:
    ``<data_root>/<mask_dir>/<img_path relative to data_root, .png>``."""
    return derived_file_path(img_path, data_root, mask_dir, '.png')


@TRANSFORMS.register_module()
class LoadPseudoMask(BaseTransform):
    """Load a precomputed class-agnostic mask map (e.g. PriMaPs proposals).

    The map (uint8 PNG of mask ids, 255 = no mask) made by an offline tool
    such as ``tools/precompute_primaps.py`` is read from
    :func:`pseudo_mask_path` and added to ``seg_fields``, so geometric
    transforms (resize, crop, flip) treat it like a label map. It is not a
    ground-truth label: the segmentor passes it to the head.

    Required keys: ``img_path``. Added keys: ``key``; modified:
    ``seg_fields``.

    Args:
        mask_dir (str): Folder of the maps under ``data_root``.
        data_root (str, optional): The dataset's ``data_root``. Defaults to
            the sample's ``data_root`` (set by mmuss datasets), so that
            overriding the dataset root moves the maps with it.
        key (str): Result key. Defaults to ``'primaps_map'``.
        tool (str, optional): Named in the error when a map is missing.
    """

    def __init__(
        self,
        mask_dir: str,
        data_root: Optional[str] = None,
        key: str = 'primaps_map',
        tool: Optional[str] = 'tools/precompute_primaps.py',
    ) -> None:
        self.data_root = data_root
        self.mask_dir = mask_dir
        self.key = key
        self.tool = tool

    def transform(self, results: dict) -> dict:
        data_root = sample_data_root(
            results, self.data_root, type(self).__name__
        )
        path = pseudo_mask_path(results['img_path'], data_root, self.mask_dir)
        if not osp.isfile(path):
            hint = (
                f'; create the maps with `python {self.tool} CONFIG`'
                if self.tool
                else ''
            )
            raise MissingDerivedFileError(
                f'mask map {path} of {results["img_path"]}'
                f' does not exist{hint}',
                tool=self.tool,
            )
        try:
            mask = mmcv.imfrombytes(
                fileio.get(path), flag='unchanged', backend='pillow'
            )
        except Exception as error:  # any decoder failure names the file
            hint = (
                f'; `python {self.tool} CONFIG` rebuilds broken maps'
                if self.tool
                else ''
            )
            raise ValueError(
                f'cannot read mask map {path} of {results["img_path"]} '
                f'({type(error).__name__}: {error}){hint}'
            ) from error
        if mask is None or mask.ndim != 2:
            raise ValueError(f'{path} is not a single-channel mask map')
        results[self.key] = mask.astype(np.uint8)
        results.setdefault('seg_fields', [])
        if self.key not in results['seg_fields']:
            results['seg_fields'].append(self.key)
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(data_root={self.data_root!r}, '
            f'mask_dir={self.mask_dir!r}, key={self.key!r})'
        )
