# Copyright (c) mmuss contributors. All rights reserved.
import os.path as osp
from typing import Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.structures import PixelData
from mmseg.registry import DATASETS

from .preparation.knn import load_knn_file


@DATASETS.register_module()
class KNNPairDataset:
    """Dataset wrapper that pairs every sample with a nearest neighbour.

    STEGO's "KNN" positives: for sample i, one image is drawn uniformly from
    its neighbours of rank 1 to ``num_neighbors`` (7) in a KNN file made by
    ``tools/precompute_knn.py`` (rank 0 is the image itself). The neighbour
    goes through the same pipeline; its image is attached to the sample's
    data sample as ``knn_img`` (``PixelData``, the packed uint8 image) and
    its path as the metainfo ``knn_img_path``. Its labels are not attached.

    Files written by mmuss carry ``img_paths`` and are matched by image
    path, so a reordered dataset still pairs correctly and a different
    dataset is refused. Upstream STEGO files (``nns`` only) are rows in
    upstream's image order, which mmuss reproduces only where a list fixes
    it: COCO-Stuff five-crops (upstream numbers crop k of the i-th image of
    its list ``5 * i + k``; mmuss's crop list is image-major in list order)
    and Potsdam (upstream follows ``labelled_train.txt``; the converter
    copies it to ``splits/train.txt``). Such files are therefore accepted
    only with ``upstream_order='list'`` on a dataset read from an
    ``ann_file``, and refused otherwise: Cityscapes' upstream order is an
    unsorted ``os.listdir`` of the machine that made the file and cannot be
    reproduced, so images would be paired silently wrong.

    Args:
        dataset (dict | BaseDataset): The wrapped dataset.
        knn_file (str): KNN file; relative paths are taken from the wrapped
            dataset's ``data_root``.
        num_neighbors (int): Highest neighbour rank drawn. Defaults to 7.
        upstream_order (str, optional): ``'list'`` accepts upstream files
            without image paths for a dataset read from an ``ann_file``
            whose order is upstream's. Defaults to None (refused).
        lazy_init (bool): Defer loading the KNN file. Defaults to False.
    """

    def __init__(
        self,
        dataset: Union[dict, BaseDataset],
        knn_file: str,
        num_neighbors: int = 7,
        upstream_order: str | None = None,
        lazy_init: bool = False,
    ) -> None:
        self.dataset = (
            DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        )
        if num_neighbors < 1:
            raise ValueError(
                f'num_neighbors must be >= 1, got {num_neighbors}'
            )
        if upstream_order not in (None, 'list'):
            raise ValueError(
                'upstream_order must be None or "list", got '
                f'{upstream_order!r}'
            )
        self.num_neighbors = num_neighbors
        self.upstream_order = upstream_order
        root = getattr(self.dataset, 'data_root', None) or ''
        self.knn_file = (
            knn_file if osp.isabs(knn_file) else osp.join(root, knn_file)
        )
        self.neighbours: np.ndarray | None = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def full_init(self) -> None:
        """Load the KNN file and align it with the dataset."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        nns, img_paths = load_knn_file(self.knn_file)
        num = len(self.dataset)
        if nns.shape[0] != num:
            raise ValueError(
                f'KNN file {self.knn_file} has {nns.shape[0]} rows but the '
                f'dataset has {num} images; recompute it with '
                '`python tools/precompute_knn.py CONFIG`'
            )
        if nns.shape[1] <= self.num_neighbors:
            raise ValueError(
                f'KNN file {self.knn_file} keeps {nns.shape[1]} neighbours; '
                f'num_neighbors={self.num_neighbors} needs more'
            )
        if nns.min() < 0 or nns.max() >= num:
            raise ValueError(
                f'KNN file {self.knn_file} holds indices outside [0, {num})'
            )
        if img_paths is not None:
            nns = self._align(nns, img_paths)
        else:
            self._check_upstream_order()
        self.neighbours = nns
        self._fully_initialized = True

    def _check_upstream_order(self) -> None:
        """Refuse an upstream file (no image paths) unless its row order is
        declared to be the dataset's list order."""
        has_list = bool(getattr(self.dataset, 'ann_file', ''))
        if self.upstream_order == 'list' and has_list:
            return
        reason = (
            'the dataset is not read from an image list (ann_file), so its '
            "order cannot be upstream's"
            if self.upstream_order == 'list'
            else "its rows follow upstream's image order, which is this "
            "dataset's only where a list fixes it (set upstream_order="
            "'list' for COCO-Stuff five-crops and Potsdam read from their "
            'lists; Cityscapes files follow an unsorted os.listdir and '
            'cannot be aligned)'
        )
        raise ValueError(
            f'KNN file {self.knn_file} has no image paths (an upstream STEGO '
            f'file) and {reason}; recompute it with '
            '`python tools/precompute_knn.py CONFIG` to pair by path'
        )

    def _align(self, nns: np.ndarray, img_paths: list) -> np.ndarray:
        """Re-index rows and entries of ``nns`` to the dataset's order."""
        root = getattr(self.dataset, 'data_root', None) or ''
        ours = [
            osp.relpath(self.dataset.get_data_info(i)['img_path'], root)
            for i in range(len(self.dataset))
        ]
        position = {path: i for i, path in enumerate(ours)}
        missing = [p for p in img_paths if p not in position]
        if missing:
            raise ValueError(
                f'KNN file {self.knn_file} lists images not in the dataset '
                f'(e.g. {missing[:3]}); it was made for another dataset'
            )
        file_to_ours = np.array([position[p] for p in img_paths])
        aligned = np.empty_like(nns)
        aligned[file_to_ours] = file_to_ours[nns]
        return aligned

    def positive_index(self, idx: int) -> int:
        """A neighbour of ``idx`` of rank 1 to ``num_neighbors``."""
        rank = np.random.randint(1, self.num_neighbors + 1)
        return int(self.neighbours[idx, rank])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        data = self.dataset[idx]
        positive_idx = self.positive_index(idx)
        positive = self.dataset[positive_idx]
        sample = data['data_samples']
        sample.set_data({'knn_img': PixelData(data=positive['inputs'])})
        sample.set_metainfo(
            {
                'knn_img_path': self.dataset.get_data_info(positive_idx)[
                    'img_path'
                ]
            }
        )
        return data
