# Copyright (c) mmuss contributors. All rights reserved.
"""Nearest-neighbour image lists for STEGO-style positive pairs.

Each training image is described by its frozen backbone features, average
pooled over the patch grid and L2-normalised (STEGO's ``precompute_knns``);
its neighbours are the images with the highest cosine similarity, itself
first. Files follow the upstream naming and format
(``nns/nns_<backbone>_<dataset>_<split>_<crop>_<res>.npz``, key ``nns``:
(N, 30) indices) and add ``img_paths`` (paths relative to the data root) so
a reordered dataset is detected.
"""

import json
import os
import os.path as osp
import shutil
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmuss.utils.atomic_io import save_npy_atomic, save_npz_atomic
from mmuss.utils.file_checks import MissingDerivedFileError

KNN_TOOL = 'tools/precompute_knn.py'


def knn_file_name(
    backbone: str,
    dataset: str,
    split: str,
    crop_type: str = 'none',
    resolution: int = 224,
) -> str:
    """Upstream file name, e.g. ``nns_vit_small_cocostuff27_train_five_224
    .npz``."""
    return f'nns_{backbone}_{dataset}_{split}_{crop_type}_{resolution}.npz'


def global_descriptors(
    features: torch.Tensor,
    dropout: float = 0.0,
    seeds: Optional[Sequence[int]] = None,
) -> torch.Tensor:
    """L2-normalised average of the patch features, (B, C, h, w) -> (B, C).

    Args:
        features (Tensor): (B, C, h, w) feature maps.
        dropout (float): Channel dropout applied before pooling, as
            upstream STEGO's KNN featurizer does (its ``Dropout2d(0.1)``
            stays in training mode): each channel is zeroed with this
            probability and the rest scaled by ``1 / (1 - dropout)``.
            Defaults to 0 (none).
        seeds (Sequence[int], optional): One seed per image for the dropout
            mask, so descriptors do not depend on batching or resumption.

    Returns:
        Tensor: (B, C) descriptors.
    """
    features = features.float()
    if dropout > 0:
        if seeds is None or len(seeds) != features.shape[0]:
            raise ValueError('descriptor dropout needs one seed per image')
        keep = torch.stack(
            [
                torch.rand(
                    features.shape[1],
                    generator=torch.Generator().manual_seed(int(seed)),
                )
                >= dropout
                for seed in seeds
            ]
        ).to(features)
        features = features * keep[:, :, None, None] / (1 - dropout)
    return F.normalize(features.mean(dim=(2, 3)), dim=1)


def nearest_neighbours(
    descriptors: torch.Tensor,
    k: int = 30,
    chunk_size: int = 1024,
    self_first: bool = True,
) -> np.ndarray:
    """Top-``k`` cosine neighbours of every descriptor.

    Args:
        descriptors (Tensor): (N, C) L2-normalised descriptors.
        k (int): Neighbours per image, the image itself included.
        chunk_size (int): Rows of the similarity matrix held at once.
        self_first (bool): Put every image at rank 0 (default). False is
            upstream's plain ``topk``, where the image lands at rank 0
            because its cosine with itself is 1, unless another image has
            an identical descriptor (a duplicate), which may then take
            rank 0 and push the image itself into the ranks drawn as
            positives.

    Returns:
        np.ndarray: (N, min(k, N)) int64 indices.
    """
    num = descriptors.shape[0]
    k = min(k, num)
    result = np.empty((num, k), dtype=np.int64)
    for start in range(0, num, chunk_size):
        rows = descriptors[start : start + chunk_size]
        similarity = rows @ descriptors.T
        if self_first:
            own = torch.arange(start, start + rows.shape[0])
            similarity[torch.arange(rows.shape[0]), own] = float('inf')
        result[start : start + rows.shape[0]] = similarity.topk(
            k, dim=1
        ).indices.numpy()
    return result


def save_knn_file(
    path: str, nns: np.ndarray, img_paths: Iterable[str] | None = None
) -> None:
    """Write a KNN file atomically (``nns`` and optional ``img_paths``)."""
    arrays = dict(nns=np.asarray(nns, dtype=np.int64))
    if img_paths is not None:
        arrays['img_paths'] = np.asarray(list(img_paths), dtype=str)
    save_npz_atomic(path, **arrays)


def load_knn_file(path: str) -> Tuple[np.ndarray, List[str] | None]:
    """Read a KNN file (ours or upstream).

    Raises:
        FileNotFoundError: Naming the file and the tool that makes it.
        ValueError: If the file is not a KNN file.
    """
    if not osp.isfile(path):
        raise MissingDerivedFileError(
            f'KNN file {path} does not exist; create it with '
            f'`python {KNN_TOOL} CONFIG` (or place the upstream STEGO file '
            'there)',
            tool=KNN_TOOL,
        )
    try:
        with np.load(path, allow_pickle=False) as content:
            nns = content['nns']
            img_paths = (
                content['img_paths'].tolist()
                if 'img_paths' in content
                else None
            )
    except Exception as error:
        raise ValueError(
            f'{path} is not a readable KNN file: {error}'
        ) from error
    if nns.ndim != 2 or not np.issubdtype(nns.dtype, np.integer):
        raise ValueError(
            f'{path}: "nns" must be an (N, K) integer array, '
            f'got {nns.dtype} {nns.shape}'
        )
    return nns.astype(np.int64), img_paths


def compute_descriptors(
    extract: Callable[[dict], torch.Tensor],
    load_batches: Callable[[range], Iterable],
    num_images: int,
    parts_dir: str,
    fingerprint: dict,
    chunk_size: int = 256,
) -> torch.Tensor:
    """Descriptors of all images, computed in resumable chunks.

    Images ``[i * chunk_size, (i + 1) * chunk_size)`` form chunk i, saved to
    ``parts_dir`` when finished; a rerun with the same ``fingerprint`` loads
    finished chunks instead of recomputing them. A different fingerprint
    (another backbone, dataset or resolution) discards them.

    Args:
        extract (Callable): Maps a data batch to descriptors (B, C).
        load_batches (Callable): Maps a range of dataset indices to its
            batches, in order.
        num_images (int): Total number of images.
        parts_dir (str): Folder for the chunk files.
        fingerprint (dict): Identifies the computation (JSON-serialisable).
        chunk_size (int): Images per chunk file.

    Returns:
        Tensor: (N, C) descriptors.
    """
    meta_path = osp.join(parts_dir, 'fingerprint.json')
    if osp.isdir(parts_dir):
        found = None
        if osp.isfile(meta_path):
            with open(meta_path) as file:
                found = json.load(file)
        if found != fingerprint:
            shutil.rmtree(parts_dir)
    os.makedirs(parts_dir, exist_ok=True)
    with open(meta_path, 'w') as file:
        json.dump(fingerprint, file)
    chunks = []
    for start in range(0, num_images, chunk_size):
        indices = range(start, min(start + chunk_size, num_images))
        path = osp.join(parts_dir, f'{start:09d}.npy')
        if not osp.isfile(path):
            with torch.no_grad():
                computed = [extract(b).cpu() for b in load_batches(indices)]
            save_npy_atomic(path, torch.cat(computed).numpy())
        chunk = np.load(path)
        if chunk.shape[0] != len(indices):
            raise RuntimeError(
                f'{path} holds {chunk.shape[0]} descriptors '
                f'for {len(indices)} images'
            )
        chunks.append(chunk)
    return torch.from_numpy(np.concatenate(chunks))
