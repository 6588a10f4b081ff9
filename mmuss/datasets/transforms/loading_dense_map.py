# Copyright (c) mmuss contributors. All rights reserved.
import io
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from mmuss.utils.file_checks import MissingDerivedFileError

from .derived_files import derived_file_path, sample_data_root

DENSE_MAP_SUFFIXES = ('.png', '.npy')


def dense_map_path(
    img_path: str, data_root: str, map_dir: str, suffix: str
) -> str:
    """Where an offline tool stores the dense map of ``img_path``:
    ``<data_root>/<map_dir>/<img_path relative to data_root><suffix>``
    (the image's extension replaced)."""
    return derived_file_path(img_path, data_root, map_dir, suffix)


def read_dense_map(path: str) -> np.ndarray:
    """A float32 map (H, W) or (H, W, k) from a 16-bit / 8-bit PNG or
    ``.npy`` file (read without pickle)."""
    raw = fileio.get(path)
    if path.endswith('.npy'):
        values = np.load(io.BytesIO(raw), allow_pickle=False)
    else:
        values = mmcv.imfrombytes(raw, flag='unchanged', backend='cv2')
        if values is None:
            raise ValueError('not a decodable image')
    if values.ndim not in (2, 3) or not np.issubdtype(values.dtype, np.number):
        raise ValueError(
            f'expected a numeric (H, W) or (H, W, k) map, got '
            f'{values.dtype} {values.shape}'
        )
    return values.astype(np.float32)


@TRANSFORMS.register_module()
class LoadDenseMap(BaseTransform):
    """Load a continuous map aligned with the image (e.g. depth) and stack
    it onto the image as extra channels.

    The mmuss route for dense auxiliary inputs (README, "How a model is put
    together"): the map becomes channels ``3:3+k`` of ``img`` (which turns
    float32), so every geometric transform treats it exactly as the image —
    bilinear resize, crop, flip, padding, sliding windows, flip
    test-time augmentation — while label maps stay nearest. The segmentor
    gives the backbone only the image channels; a head reads the map by
    name (``required_inputs``) after :class:`USSDataPreProcessor` has
    normalised it with its own mean and std. Transforms that work on colour
    (photometric views) read the first three channels only.

    The map is read from :func:`dense_map_path`: a 16-bit or 8-bit PNG
    (multiplied by ``scale``, e.g. 1/1000 for millimetre depth) or a
    ``.npy`` array; it must have the image's height and width. NaN or
    infinite values are refused.

    Required keys: ``img``, ``img_path``. Modified: ``img``. Added:
    ``aux_channels`` (list of ``(name, channels)`` in stacking order).

    Args:
        name (str): The map's name, as heads and the data preprocessor's
            ``aux_channels`` use it (e.g. ``'depth'``).
        map_dir (str): Folder of the maps under ``data_root``.
        suffix (str): ``'.png'`` or ``'.npy'``. Defaults to ``'.png'``.
        scale (float): Factor applied to the stored values. Defaults to 1.
        data_root (str, optional): Defaults to the sample's ``data_root``.
        tool (str, optional): The offline tool that makes the maps, named
            when one is missing or unreadable.
    """

    def __init__(
        self,
        name: str,
        map_dir: str,
        suffix: str = '.png',
        scale: float = 1.0,
        data_root: Optional[str] = None,
        tool: Optional[str] = None,
    ) -> None:
        if suffix not in DENSE_MAP_SUFFIXES:
            raise ValueError(
                f'suffix must be one of {DENSE_MAP_SUFFIXES}, got {suffix!r}'
            )
        self.name = name
        self.map_dir = map_dir
        self.suffix = suffix
        self.scale = scale
        self.data_root = data_root
        self.tool = tool

    def _hint(self, action: str) -> str:
        return f'; {action} with `python {self.tool}`' if self.tool else ''

    def _load(self, path: str, img_path: str) -> np.ndarray:
        if not osp.isfile(path):
            raise MissingDerivedFileError(
                f'{self.name} map {path} of {img_path} does not exist'
                + self._hint('create the maps'),
                tool=self.tool,
            )
        try:
            values = read_dense_map(path)
        except Exception as error:  # any decoder failure names the file
            raise ValueError(
                f'cannot read {self.name} map {path} of {img_path} '
                f'({type(error).__name__}: {error})' + self._hint('rebuild it')
            ) from error
        if not np.isfinite(values).all():
            raise ValueError(
                f'{self.name} map {path} of {img_path} holds NaN or '
                'infinite values' + self._hint('rebuild it')
            )
        return values * self.scale

    def encode(self, values: np.ndarray) -> np.ndarray:
        """The channels stacked from the loaded values (as loaded here;
        subclasses encode, e.g. :class:`LoadModality`)."""
        return values

    def transform(self, results: dict) -> dict:
        data_root = sample_data_root(
            results, self.data_root, type(self).__name__
        )
        img_path = results['img_path']
        path = dense_map_path(img_path, data_root, self.map_dir, self.suffix)
        values = self._load(path, img_path)
        try:
            values = self.encode(values)
        except ValueError as error:
            raise ValueError(
                f'{self.name} map {path} of {img_path}: {error}'
            ) from error
        image = results['img']
        if values.shape[:2] != image.shape[:2]:
            raise ValueError(
                f'{self.name} map {path} is {values.shape[:2]} (H, W) but '
                f'its image {img_path} is {image.shape[:2]}'
            )
        if image.ndim == 2:
            image = image[..., None]
        if values.ndim == 2:
            values = values[..., None]
        results['img'] = np.concatenate(
            [image.astype(np.float32), values], axis=2
        )
        results['aux_channels'] = list(results.get('aux_channels', [])) + [
            (self.name, values.shape[2])
        ]
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(name={self.name!r}, '
            f'map_dir={self.map_dir!r}, suffix={self.suffix!r}, '
            f'scale={self.scale})'
        )
