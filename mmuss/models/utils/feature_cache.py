# Copyright (c) mmuss contributors. All rights reserved.
"""On-disk cache of frozen backbone features.

Every method in mmuss trains small heads on a frozen backbone, so as long as
the backbone's input does not change, its output does not either. The cache
stores the backbone outputs of each input, keyed by a hash of the
normalised input tensor (so the image, its crop, its flip and the
normalisation are all part of the key) and of the backbone (its class,
config and weights), so a changed config or checkpoint never reads stale
features. Entries are single files in a small binary format (header with
shapes, then float16 or float32 data; a CRC32 covers both), read
memory-mapped; truncated or corrupted entries are detected, removed and
recomputed. Writes are atomic (temporary file, then rename), so concurrent
processes never read half-written entries.
"""

import hashlib
import json
import os
import os.path as osp
import struct
import zlib
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

from mmuss.utils.atomic_io import atomic_path

# Version 2: the CRC covers the JSON header (dtype, shapes) and the payload;
# version-1 entries are treated as corrupt and recomputed.
MAGIC = b'MMUSSFC2'
_HEADER = struct.Struct('<8sII')  # magic, header-json length, crc32


_SETTING_TYPES = (bool, int, float, str, type(None))
_NOT_SETTINGS = ('training', 'init_cfg', 'pretrained_checkpoint')


def _module_settings(module: nn.Module) -> str:
    """Class and plain-valued public attributes of a module, e.g. a ViT's
    ``out_type`` or ``final_norm``; where the weights came from
    (``init_cfg``, checkpoint paths) is left out since the weights are
    hashed themselves."""
    settings = {
        name: value
        for name, value in vars(module).items()
        if not name.startswith('_')
        and name not in _NOT_SETTINGS
        and (
            isinstance(value, _SETTING_TYPES)
            or (
                isinstance(value, (tuple, list))
                and all(isinstance(v, _SETTING_TYPES) for v in value)
            )
        )
    }
    return f'{type(module).__qualname__}{sorted(settings.items())}'


def backbone_fingerprint(backbone: nn.Module) -> str:
    """Hash of a backbone's structure (every submodule's class and plain
    settings) and weights (parameters and buffers)."""
    digest = hashlib.sha1()
    for name, module in backbone.named_modules():
        digest.update(f'{name}:{_module_settings(module)}'.encode())
    for name, tensor in sorted(backbone.state_dict().items()):
        digest.update(name.encode())
        data = tensor.detach().cpu().contiguous()
        digest.update(str((data.dtype, tuple(data.shape))).encode())
        digest.update(
            data.reshape(-1).view(torch.uint8).numpy().tobytes()
            if data.numel()
            else b''
        )
    return digest.hexdigest()


def input_key(
    image: Tensor, fingerprint: str, modality: Optional[str] = None
) -> str:
    """Cache key of one normalised input (C, H, W) for a backbone; a
    non-RGB ``modality`` (e.g. ``'hha'``) is part of the key, so that
    modalities never share entries even where their pixels coincide."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(fingerprint.encode())
    if modality is not None:
        digest.update(f'modality:{modality}'.encode())
    data = image.detach().float().cpu().contiguous()
    digest.update(str(tuple(data.shape)).encode())
    digest.update(data.numpy().tobytes())
    return digest.hexdigest()


class FeatureCache:
    """A folder of cached backbone outputs.

    Args:
        cache_dir (str): Folder (created). Entries are spread over 256
            sub-folders.
        dtype (str): Storage precision, ``'float16'`` (default) or
            ``'float32'``.
    """

    def __init__(self, cache_dir: str, dtype: str = 'float16') -> None:
        if dtype not in ('float16', 'float32'):
            raise ValueError(f'dtype must be float16 or float32, got {dtype}')
        self.cache_dir = cache_dir
        self.dtype = np.dtype(dtype)
        self.hits = 0
        self.misses = 0
        self.corrupt = 0

    def path(self, key: str) -> str:
        return osp.join(self.cache_dir, key[:2], f'{key}.feat')

    def put(self, key: str, outputs: Sequence[Tensor]) -> None:
        """Store the backbone outputs of one input (each (C, h, w))."""
        arrays = [o.detach().cpu().numpy().astype(self.dtype) for o in outputs]
        payload = b''.join(np.ascontiguousarray(a).tobytes() for a in arrays)
        meta = json.dumps(
            dict(dtype=self.dtype.str, shapes=[list(a.shape) for a in arrays])
        ).encode()
        with atomic_path(self.path(key)) as tmp_path:
            with open(tmp_path, 'wb') as file:
                crc = zlib.crc32(payload, zlib.crc32(meta))
                file.write(_HEADER.pack(MAGIC, len(meta), crc))
                file.write(meta)
                file.write(payload)

    def get(self, key: str) -> Optional[List[np.ndarray]]:
        """The stored outputs (memory-mapped), or None when absent. A
        truncated or corrupted entry is deleted and reported as absent."""
        path = self.path(key)
        if not osp.isfile(path):
            self.misses += 1
            return None
        arrays = self._read(path)
        if arrays is None:
            self.corrupt += 1
            self.misses += 1
            try:
                os.remove(path)
            except OSError:
                pass
            return None
        self.hits += 1
        return arrays

    @staticmethod
    def _read(path: str) -> Optional[List[np.ndarray]]:
        try:
            # header, size and data all from one open file: a concurrent
            # writer's rename cannot swap the file between the reads
            with open(path, 'rb') as file:
                size = os.fstat(file.fileno()).st_size
                magic, meta_length, crc = _HEADER.unpack(
                    file.read(_HEADER.size)
                )
                if magic != MAGIC:
                    return None
                meta_bytes = file.read(meta_length)
                meta = json.loads(meta_bytes)
                offset = _HEADER.size + meta_length
                dtype = np.dtype(meta['dtype'])
                counts = [int(np.prod(s)) for s in meta['shapes']]
                if size != offset + sum(counts) * dtype.itemsize:
                    return None
                data = np.memmap(
                    file,
                    dtype=dtype,
                    mode='r',
                    offset=offset,
                    shape=(sum(counts),),
                )
            if zlib.crc32(data, zlib.crc32(meta_bytes)) != crc:
                return None
        except (OSError, ValueError, struct.error, KeyError):
            return None
        arrays, start = [], 0
        for count, shape in zip(counts, meta['shapes']):
            arrays.append(data[start : start + count].reshape(shape))
            start += count
        return arrays


class CachedBackbone:
    """Runs a frozen backbone through a :class:`FeatureCache`.

    Args:
        backbone (nn.Module): The frozen backbone.
        cache (FeatureCache): Where features are stored.
    """

    def __init__(self, backbone: nn.Module, cache: FeatureCache) -> None:
        self.backbone = backbone
        self.cache = cache
        self._fingerprint: Optional[str] = None

    @property
    def fingerprint(self) -> str:
        """The backbone's hash, computed once (the backbone is frozen)."""
        if self._fingerprint is None:
            self._fingerprint = backbone_fingerprint(self.backbone)
        return self._fingerprint

    @torch.no_grad()
    def __call__(
        self,
        inputs: Tensor,
        write: bool = True,
        modality: Optional[str] = None,
    ) -> List[Tensor]:
        """Backbone outputs of a batch, from the cache where present.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W).
            write (bool): Store the outputs computed for missing inputs.
            modality (str, optional): The modality the inputs are, for
                non-RGB modalities (a separate key space).

        Returns:
            list[Tensor]: The outputs, float32 on the inputs' device.
        """
        keys = [
            input_key(image, self.fingerprint, modality) for image in inputs
        ]
        found = [self.cache.get(key) for key in keys]
        missing = [i for i, f in enumerate(found) if f is None]
        if missing:
            computed = self.backbone(inputs[missing])
            if isinstance(computed, Tensor):
                computed = [computed]
            for row, index in enumerate(missing):
                outputs = [c[row] for c in computed]
                if write:
                    self.cache.put(keys[index], outputs)
                found[index] = [o.float().cpu().numpy() for o in outputs]
        return [
            torch.stack(
                [
                    torch.from_numpy(np.asarray(f[level], dtype=np.float32))
                    for f in found
                ]
            ).to(inputs.device)
            for level in range(len(found[0]))
        ]
