# Copyright (c) mmuss contributors. All rights reserved.
"""Depth priors from a frozen monocular estimator (MSSSeg §3.1, §4.1).

MSSSeg feeds its DBC module a "normalized depth map" D of every training
and evaluation image, predicted by "a frozen depth estimator pretrained on
DINO [DepthAnythingV2]". The paper names neither the model size nor the
preprocessing; the choices here, all configurable, are:

- the model: Depth Anything V2 Small (``transformers``'
  ``DepthAnythingForDepthEstimation``, Apache-2.0; Base and Large are
  CC-BY-NC), loaded from safetensors only;
- the preprocessing of the Depth Anything V2 release: RGB in [0, 1],
  bicubic resize so that the *short* side is ``input_size`` (518) and both
  sides are multiples of the patch size 14 (aspect ratio kept;
  :func:`network_input_size`), ImageNet mean and std;
- the prediction (relative *inverse* depth: near is large) resized back to
  the image size bilinearly and min-max normalised per image to 0..65535
  (:func:`min_max_normalise`, :func:`to_uint16`), stored as a 16-bit PNG
  where :class:`~mmuss.datasets.transforms.LoadDenseMap` reads it
  (``scale=1 / 65535`` gives D in [0, 1]).

Maps are written atomically; complete maps of the right size are skipped
and damaged ones rebuilt, so runs resume, and ``rank``/``world_size``
split the images between processes.
"""

import math
import os.path as osp
import time
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS, TRANSFORMS
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from mmuss.datasets.transforms.loading_dense_map import dense_map_path
from mmuss.utils.atomic_io import save_image_atomic
from mmuss.utils.file_checks import reusable_image

DEPTH_TOOL = 'tools/precompute_depth.py'
DEFAULT_DEPTH_MODEL = 'depth-anything/Depth-Anything-V2-Small-hf'
DEPTH_MAP_NAME = 'depth'
DEPTH_PATCH_SIZE = 14
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
UINT16_MAX = 65535
SPLIT_LOADERS = dict(
    train='train_dataloader', val='val_dataloader', test='test_dataloader'
)
EXIF_ORIENTATION = 0x0112
TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)


@dataclass(frozen=True)
class DepthTarget:
    """One image and the depth map the tool writes for it.

    Args:
        img_path (str): The image, as the dataset lists it.
        map_path (str): Where :class:`LoadDenseMap` reads its map.
        image_loader (dict): The ``LoadImageFromFile`` config of the
            image's pipeline, so the map has the size of the image that
            training decodes.
    """

    img_path: str
    map_path: str
    image_loader: dict = field(
        default_factory=lambda: dict(type='LoadImageFromFile')
    )


def network_input_size(
    height: int,
    width: int,
    input_size: int = 518,
    multiple: int = DEPTH_PATCH_SIZE,
    keep_aspect_ratio: bool = True,
) -> Tuple[int, int]:
    """The (height, width) an image is resized to for Depth Anything V2.

    With ``keep_aspect_ratio`` (the release's "lower bound" rule) the image
    is scaled so that its short side is ``input_size`` and each scaled side
    is rounded to the nearest multiple of ``multiple``, never below
    ``input_size`` rounded up to a multiple. Without it, both sides become
    that value (a square input, the aspect ratio lost).

    Args:
        height (int): Image height.
        width (int): Image width.
        input_size (int): Target short side. Defaults to 518 (the release).
        multiple (int): The ViT patch size. Defaults to 14.
        keep_aspect_ratio (bool): Defaults to True.

    Returns:
        tuple[int, int]: (height, width) of the network input.
    """
    if min(height, width, input_size, multiple) < 1:
        raise ValueError(
            f'sizes must be positive, got image {height}x{width}, '
            f'input_size {input_size}, multiple {multiple}'
        )
    floor = multiple * math.ceil(input_size / multiple)
    if not keep_aspect_ratio:
        return floor, floor
    scale = input_size / min(height, width)

    def side(length: int) -> int:
        return max(multiple * round(length * scale / multiple), floor)

    return side(height), side(width)


def preprocess_image(
    rgb: np.ndarray,
    input_size: int = 518,
    keep_aspect_ratio: bool = True,
) -> torch.Tensor:
    """Depth Anything V2 network input of one RGB image.

    The image is scaled to [0, 1], resized bicubically (OpenCV
    ``INTER_CUBIC``, as the release) to :func:`network_input_size` and
    normalised with the ImageNet mean and std.

    Args:
        rgb (np.ndarray): (H, W, 3) RGB image, uint8 (or float in 0..255).
        input_size (int): See :func:`network_input_size`.
        keep_aspect_ratio (bool): See :func:`network_input_size`.

    Returns:
        Tensor: (3, h, w) float32.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) image, got {rgb.shape}')
    height, width = network_input_size(
        rgb.shape[0], rgb.shape[1], input_size, DEPTH_PATCH_SIZE,
        keep_aspect_ratio,
    )  # fmt: skip
    image = rgb.astype(np.float32) / 255.0
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    image = (image - np.float32(IMAGENET_MEAN)) / np.float32(IMAGENET_STD)
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


def min_max_normalise(depth: torch.Tensor) -> Tuple[torch.Tensor, bool]:
    """The normalised depth map D of MSSSeg §3.2: ``(d - min d) / (max d -
    min d)`` over the image, in [0, 1].

    The paper normalises the estimator's output without saying how;
    per-image min-max is the choice (the spec's §3.2.9). A Depth Anything V2
    relative model predicts inverse depth, so D is 1 at the nearest and 0
    at the farthest point; it is kept so (not inverted). A constant map has
    no range: it becomes zeros and the flag is set (the caller warns).

    Args:
        depth (Tensor): (H, W) prediction of one image.

    Returns:
        tuple[Tensor, bool]: D (float32, same shape) and whether ``depth``
        was constant.
    """
    depth = depth.float()
    low, high = depth.min(), depth.max()
    if not high > low:
        return torch.zeros_like(depth), True
    return (depth - low) / (high - low), False


def to_uint16(normalised: torch.Tensor) -> np.ndarray:
    """D in [0, 1] as the stored 16-bit map: ``round(65535 D)``."""
    scaled = normalised.clamp(0, 1) * UINT16_MAX
    return scaled.round().to(torch.int32).cpu().numpy().astype(np.uint16)


def resize_to_images(
    predictions: torch.Tensor, sizes: Sequence[Tuple[int, int]]
) -> List[torch.Tensor]:
    """Each (h, w) prediction resized bilinearly (``align_corners=False``)
    to its image's (H, W)."""
    return [
        F.interpolate(
            prediction[None, None].float(),
            size=tuple(size),
            mode='bilinear',
            align_corners=False,
        )[0, 0]
        for prediction, size in zip(predictions, sizes)
    ]


def load_depth_estimator(
    model: str = DEFAULT_DEPTH_MODEL, device: str = 'cpu'
) -> torch.nn.Module:
    """A frozen ``DepthAnythingForDepthEstimation`` in eval mode.

    Weights load from safetensors only (``use_safetensors=True``), never
    from a pickle.

    Args:
        model (str): A Hugging Face model id or a local folder saved with
            ``save_pretrained``.
        device (str): Defaults to ``'cpu'``.

    Raises:
        ImportError: Without ``transformers``.
        OSError: Naming ``model`` when it cannot be loaded.
    """
    try:
        from transformers import DepthAnythingForDepthEstimation
    except ImportError as error:
        raise ImportError(
            f'{DEPTH_TOOL} needs transformers with Depth Anything '
            '(pip install transformers)'
        ) from error
    try:
        estimator = DepthAnythingForDepthEstimation.from_pretrained(
            model, use_safetensors=True
        )
    except (OSError, ValueError) as error:
        raise OSError(
            f'cannot load a Depth Anything model from {model!r} with '
            f'safetensors weights ({type(error).__name__}: {error})'
        ) from error
    estimator.requires_grad_(False)
    estimator.eval()
    return estimator.to(device)


@torch.no_grad()
def predict_depth_maps(
    estimator: torch.nn.Module,
    pixel_values: torch.Tensor,
    sizes: Sequence[Tuple[int, int]],
) -> List[torch.Tensor]:
    """The estimator's raw predictions, each at its image's size.

    Args:
        estimator (nn.Module): ``DepthAnythingForDepthEstimation``.
        pixel_values (Tensor): (B, 3, h, w) from :func:`preprocess_image`.
        sizes (Sequence[tuple]): (H, W) of every image.

    Returns:
        list[Tensor]: (H, W) float32 maps.
    """
    device = next(estimator.parameters()).device
    output = estimator(pixel_values=pixel_values.to(device))
    return resize_to_images(output.predicted_depth, sizes)


def image_size(path: str) -> Tuple[int, int]:
    """(H, W) of an image from its header, as OpenCV decodes it (EXIF
    rotations by 90 degrees swap the sides)."""
    with Image.open(path) as image:
        width, height = image.size
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    if orientation in TRANSPOSED_ORIENTATIONS:
        return width, height
    return height, width


def innermost_dataset_cfgs(dataset_cfg: dict) -> Iterator[dict]:
    """The dataset configs with a pipeline under wrappers (``dataset``)
    and concatenations (``datasets``)."""
    if 'pipeline' in dataset_cfg:
        yield dataset_cfg
    elif 'dataset' in dataset_cfg:
        yield from innermost_dataset_cfgs(dataset_cfg['dataset'])
    else:
        for inner in dataset_cfg.get('datasets', []):
            yield from innermost_dataset_cfgs(inner)


def depth_loader_cfg(pipeline: Sequence[dict]) -> dict:
    """The pipeline's ``LoadDenseMap`` of ``name='depth'``, or ``{}``.

    Raises:
        ValueError: When it reads ``.npy`` files (the tool writes PNGs).
    """
    for transform in pipeline:
        if (
            transform.get('type') == 'LoadDenseMap'
            and transform.get('name') == DEPTH_MAP_NAME
        ):
            if transform.get('suffix', '.png') != '.png':
                raise ValueError(
                    f'LoadDenseMap(name={DEPTH_MAP_NAME!r}) reads '
                    f'suffix={transform["suffix"]!r}; {DEPTH_TOOL} writes '
                    "'.png' maps"
                )
            return dict(transform)
    return {}


def image_loader_cfg(pipeline: Sequence[dict]) -> dict:
    """The pipeline's ``LoadImageFromFile`` config (the default one when it
    has none)."""
    for transform in pipeline:
        if transform.get('type') == 'LoadImageFromFile':
            return dict(transform)
    return dict(type='LoadImageFromFile')


def dataset_depth_targets(
    dataset_cfg: dict, map_dir: str
) -> List[DepthTarget]:
    """The :class:`DepthTarget` of every image of one dataset config; the
    map folder and root are those of its ``LoadDenseMap`` when it has one,
    else ``map_dir`` and the dataset's root."""
    pipeline = list(dataset_cfg.get('pipeline', []))
    depth_cfg = depth_loader_cfg(pipeline)
    loader = image_loader_cfg(pipeline)
    dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
    root = depth_cfg.get('data_root') or dataset.data_root or ''
    folder = depth_cfg.get('map_dir', map_dir)
    targets = []
    for index in range(len(dataset)):
        img_path = dataset.get_data_info(index)['img_path']
        map_path = dense_map_path(img_path, root, folder, '.png')
        targets.append(DepthTarget(img_path, map_path, loader))
    return targets


def depth_targets(
    cfg, splits: Sequence[str] = ('train', 'val', 'test'), map_dir='depth'
) -> List[DepthTarget]:
    """Every image of the config's ``splits`` with its map path, once.

    Images are deduplicated by (absolute) path, the first split naming an
    image deciding its map path, and sorted so that every process of a
    sharded run sees the same list.

    Args:
        cfg (Config): The training config.
        splits (Sequence[str]): Among ``'train'``, ``'val'``, ``'test'``;
            a split whose dataloader the config lacks is skipped.
        map_dir (str): Map folder for datasets without a depth
            ``LoadDenseMap``.

    Raises:
        KeyError: For an unknown split.
        ValueError: When two images would write the same map.
    """
    unknown = [s for s in splits if s not in SPLIT_LOADERS]
    if unknown:
        raise KeyError(
            f'unknown split(s) {unknown}; choose from {list(SPLIT_LOADERS)}'
        )
    by_image: Dict[str, DepthTarget] = {}
    for split in splits:
        loader = cfg.get(SPLIT_LOADERS[split])
        if not loader:
            print(f'the config has no {SPLIT_LOADERS[split]}; skipped')
            continue
        for dataset_cfg in innermost_dataset_cfgs(loader['dataset']):
            for target in dataset_depth_targets(dataset_cfg, map_dir):
                by_image.setdefault(osp.abspath(target.img_path), target)
    targets = sorted(by_image.values(), key=lambda t: osp.abspath(t.map_path))
    for previous, target in zip(targets, targets[1:]):
        if osp.abspath(previous.map_path) == osp.abspath(target.map_path):
            raise ValueError(
                f'{previous.img_path} and {target.img_path} would both '
                f'write {target.map_path}'
            )
    return targets


def shard(items: Sequence, rank: int = 0, world_size: int = 1) -> List:
    """Every ``world_size``-th item from ``rank`` on: the share of one
    process of a parallel run.

    Raises:
        ValueError: Unless ``0 <= rank < world_size``.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(
            f'need 0 <= rank < world_size, got rank {rank}, world_size '
            f'{world_size}'
        )
    return list(items[rank::world_size])


def pending_targets(targets: Iterable[DepthTarget]) -> List[DepthTarget]:
    """The targets without a complete map: missing, undecodable, or not of
    the image's size (the broken ones named in a warning)."""
    return [
        target
        for target in targets
        if not reusable_image(target.map_path, image_size(target.img_path))
    ]


class DepthInputs(Dataset):
    """The network inputs of a list of :class:`DepthTarget`: each image
    decoded by its pipeline's ``LoadImageFromFile`` and passed through
    :func:`preprocess_image`.

    Items are ``dict(index, pixel_values, size)``, ``size`` the decoded
    image's (H, W).
    """

    def __init__(
        self,
        targets: Sequence[DepthTarget],
        input_size: int = 518,
        keep_aspect_ratio: bool = True,
    ) -> None:
        self.targets = list(targets)
        self.input_size = input_size
        self.keep_aspect_ratio = keep_aspect_ratio
        self.loaders = {
            repr(t.image_loader): TRANSFORMS.build(dict(t.image_loader))
            for t in self.targets
        }

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> dict:
        target = self.targets[index]
        loaded = self.loaders[repr(target.image_loader)](
            dict(img_path=target.img_path)
        )
        image = loaded['img']
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        rgb = image[..., 2::-1]  # BGR -> RGB
        return dict(
            index=index,
            pixel_values=preprocess_image(
                rgb, self.input_size, self.keep_aspect_ratio
            ),
            size=tuple(image.shape[:2]),
        )


def shape_batches(
    items: Iterable[dict], batch_size: int, max_buffered: int = 0
) -> Iterator[List[dict]]:
    """Group items whose ``pixel_values`` share a shape into batches.

    Images of different aspect ratios get different network inputs; items
    wait in one bucket per shape and a bucket leaves as a batch when it
    holds ``batch_size`` items, or (the fullest one) when
    ``max_buffered`` items wait in all (default ``4 * batch_size``), which
    bounds the memory. What remains leaves at the end.

    Yields:
        list[dict]: Items of one shape, at most ``batch_size``.
    """
    max_buffered = max(max_buffered or 4 * batch_size, batch_size)
    buckets: Dict[Tuple, List[dict]] = {}
    waiting = 0
    for item in items:
        bucket = buckets.setdefault(tuple(item['pixel_values'].shape), [])
        bucket.append(item)
        waiting += 1
        if len(bucket) < batch_size and waiting < max_buffered:
            continue
        shape = max(buckets, key=lambda s: len(buckets[s]))
        batch = buckets.pop(shape)
        waiting -= len(batch)
        yield batch
    for batch in buckets.values():
        yield batch


def write_depth_map(depth: torch.Tensor, target: DepthTarget) -> None:
    """Normalise one prediction (:func:`min_max_normalise`) and write it
    atomically as a 16-bit PNG; a constant prediction is written as zeros
    with a warning naming the image.

    Raises:
        ValueError: Naming the image when the prediction is not finite.
    """
    if not torch.isfinite(depth).all():
        raise ValueError(
            f'the depth predicted for {target.img_path} holds NaN or '
            'infinite values'
        )
    normalised, constant = min_max_normalise(depth)
    if constant:
        warnings.warn(
            f'the depth predicted for {target.img_path} is constant; '
            f'{target.map_path} is all zeros',
            stacklevel=2,
        )
    save_image_atomic(to_uint16(normalised), target.map_path)


def precompute_depth(
    estimator: torch.nn.Module,
    targets: Sequence[DepthTarget],
    batch_size: int = 8,
    num_workers: int = 2,
    input_size: int = 518,
    keep_aspect_ratio: bool = True,
) -> float:
    """Predict and write the depth map of every target.

    Args:
        estimator (nn.Module): From :func:`load_depth_estimator`.
        targets (Sequence[DepthTarget]): Usually :func:`pending_targets`.
        batch_size (int): Images per forward pass. Defaults to 8.
        num_workers (int): Image decoding processes. Defaults to 2.
        input_size (int): See :func:`network_input_size`.
        keep_aspect_ratio (bool): See :func:`network_input_size`.

    Returns:
        float: Seconds spent (decoding, network and writing).
    """
    start = time.perf_counter()
    if not targets:
        return 0.0
    inputs = DepthInputs(targets, input_size, keep_aspect_ratio)
    loader = DataLoader(
        inputs, batch_size=None, num_workers=num_workers, shuffle=False
    )
    progress = ProgressBar(len(targets))
    for batch in shape_batches(loader, batch_size):
        depths = predict_depth_maps(
            estimator,
            torch.stack([item['pixel_values'] for item in batch]),
            [item['size'] for item in batch],
        )
        for item, depth in zip(batch, depths):
            write_depth_map(depth, inputs.targets[item['index']])
            progress.update()
    return time.perf_counter() - start
