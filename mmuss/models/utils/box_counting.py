# Copyright (c) mmuss contributors. All rights reserved.
"""Differentiable box counting (DBC): the equations of MSSSeg §3.2.

`MSSSeg <https://arxiv.org/abs/2512.23997>`_ (Li et al., §3.2, Eqs. 3-5,
supplement §III) describes the structure of a map by how many boxes of a
grid it occupies at several box sizes. The displayed equations are lost
from the paper's text; the prose gives (our reconstruction):

* Eq. 3, the classical count: the map is cut into s x s boxes and
  ``N_s(X) = sum_boxes 1[box holds a nonzero value]``;
* Eq. 4, the differentiable count: the indicator is replaced by the box's
  maximum, ``N_s(X) = sum_ij MaxPool_{s, stride s}(X)_ij``;
* Eq. 5, the signature ``Φ(X) = [N_s1(X), ..., N_sk(X)]`` over
  geometrically spaced sizes;
* supplement Eq. XII, the box-counting dimension, the least-squares slope
  of ``log N_s`` against ``log(1 / s)`` (Table VII's scalar alternative).

The four descriptors feed it: the class masks of the segmentation (SA),
their morphological gradient (SB), the local variance of the depth (DA)
and its Sobel magnitude (DB).

Grid: boxes start at the top-left pixel; the last row and column of boxes
are partial where s does not divide the side (224 / 64), and a box larger
than the map covers all of it (one box).
"""

from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from kornia.filters import spatial_gradient
from torch import Tensor

POOLS = ('max', 'avg')
COUNT_NORMS = ('fraction', 'log', 'none')
SIGNATURES = ('counts', 'slope')
# Table VI of the supplement: its box sizes are lost from the text except
# that f (the default, "six sizes") is the best and g is f plus 128.
BOX_SIZE_PRESETS: Dict[str, Tuple[int, ...]] = {
    'f': (2, 4, 8, 16, 32, 64),
    'g': (2, 4, 8, 16, 32, 64, 128),
}
DEFAULT_BOX_SIZES = BOX_SIZE_PRESETS['f']


def check_maps(maps: Tensor, name: str = 'maps') -> None:
    """Refuse anything but a (B, C, H, W) floating-point tensor.

    Raises:
        ValueError: Naming ``name`` and the shape or dtype at fault.
    """
    if maps.dim() != 4:
        raise ValueError(
            f'{name} must be (B, C, H, W), got shape {tuple(maps.shape)}'
        )
    if not maps.is_floating_point():
        raise ValueError(f'{name} must be floating point, got {maps.dtype}')


def resolve_box_sizes(box_sizes: Union[str, Sequence[int]]) -> Tuple[int]:
    """The box sizes of a Table VI preset name or of a sequence, checked.

    Raises:
        ValueError: An unknown preset, an empty sequence, a size that is
            not a positive integer, or a repeated size (named).
    """
    if isinstance(box_sizes, str):
        if box_sizes not in BOX_SIZE_PRESETS:
            raise ValueError(
                f'box_sizes preset must be one of '
                f'{sorted(BOX_SIZE_PRESETS)}, got {box_sizes!r}'
            )
        return BOX_SIZE_PRESETS[box_sizes]
    sizes = tuple(box_sizes)
    if not sizes:
        raise ValueError('box_sizes must name at least one box size')
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f'box_sizes must be positive integers, got {size!r} in {sizes}'
            )
    if len(set(sizes)) != len(sizes):
        raise ValueError(f'box_sizes must not repeat a size, got {sizes}')
    return sizes


def number_of_boxes(height: int, width: int, box_size: int) -> int:
    """Boxes of side ``box_size`` in the grid of an H x W map (partial
    boxes included)."""
    return -(-height // box_size) * -(-width // box_size)


def box_maxima(maps: Tensor, box_size: int) -> Tensor:
    """Maximum of each s x s box: (B, C, ceil(H/s), ceil(W/s))."""
    return F.max_pool2d(maps, box_size, box_size, ceil_mode=True)


def classical_box_count(
    maps: Tensor, box_size: int, threshold: float = 0.0
) -> Tensor:
    """MSSSeg Eq. 3: boxes holding a value above ``threshold``, per channel.

    ``N_s(X) = sum_boxes 1[max_box X > threshold]``; the indicator has no
    gradient (the reason for Eq. 4).

    Args:
        maps (Tensor): (B, C, H, W).
        box_size (int): s.
        threshold (float): "Nonzero" means above this. Defaults to 0.

    Returns:
        Tensor: (B, C) counts (float, no gradient).
    """
    check_maps(maps)
    occupied = box_maxima(maps.detach(), box_size) > threshold
    return occupied.flatten(2).sum(-1).to(maps.dtype)


def differentiable_box_count(
    maps: Tensor, box_size: int, pool: str = 'max'
) -> Tensor:
    """MSSSeg Eq. 4: the sum over boxes of each box's maximum.

    ``N_s(X) = sum_ij MaxPool_{s x s, stride s}(X)_ij``. On a binary map it
    equals Eq. 3; on soft maps it counts each box by its strongest
    occupancy, and the gradient reaches the maximal pixel of every box.
    ``pool='avg'`` sums box means instead (the supplement's Table VIII
    "multi-scale average pooling" baseline, not box counting).

    Args:
        maps (Tensor): (B, C, H, W).
        box_size (int): s.
        pool (str): 'max' (default, Eq. 4) or 'avg'.

    Returns:
        Tensor: (B, C).
    """
    check_maps(maps)
    if pool not in POOLS:
        raise ValueError(f'pool must be one of {POOLS}, got {pool!r}')
    if pool == 'max':
        pooled = box_maxima(maps, box_size)
    else:
        pooled = F.avg_pool2d(maps, box_size, box_size, ceil_mode=True)
    return pooled.flatten(2).sum(-1)


def box_count_signature(
    maps: Tensor,
    box_sizes: Sequence[int] = DEFAULT_BOX_SIZES,
    pool: str = 'max',
) -> Tensor:
    """MSSSeg Eq. 5: Eq. 4 at each box size, the structural signature.

    ``Φ(X) = [N_s1(X), ..., N_sk(X)]``.

    Args:
        maps (Tensor): (B, C, H, W).
        box_sizes (Sequence[int]): s_1 ... s_k. Defaults to Table VI's
            config f, (2, 4, 8, 16, 32, 64).
        pool (str): See :func:`differentiable_box_count`.

    Returns:
        Tensor: (B, C, k) raw counts.
    """
    counts = [differentiable_box_count(maps, s, pool) for s in box_sizes]
    return torch.stack(counts, dim=-1)


def normalise_counts(
    signature: Tensor,
    box_sizes: Sequence[int],
    height: int,
    width: int,
    mode: str = 'fraction',
) -> Tensor:
    """Scale a signature before its MLP (the paper is silent).

    Raw counts at s = 2 reach H·W/4 while those at s = 64 stay below 16,
    so they are put on one scale:

    * ``'fraction'`` (default): ``N_s`` divided by the number of boxes, the
      occupied fraction of the grid, in [0, 1] for maps in [0, 1] and
      independent of the map size;
    * ``'log'``: ``log(1 + N_s)``;
    * ``'none'``: the counts as they are.

    Args:
        signature (Tensor): (..., k) counts of an H x W map.
        box_sizes (Sequence[int]): The k sizes.
        height (int): H.
        width (int): W.
        mode (str): One of ``COUNT_NORMS``.

    Returns:
        Tensor: (..., k).
    """
    if mode not in COUNT_NORMS:
        raise ValueError(
            f'count normalisation must be one of {COUNT_NORMS}, got {mode!r}'
        )
    if mode == 'log':
        return torch.log1p(signature)
    if mode == 'fraction':
        boxes = [number_of_boxes(height, width, s) for s in box_sizes]
        return signature / signature.new_tensor(boxes)
    return signature


def box_counting_dimension(
    signature: Tensor, box_sizes: Sequence[int], eps: float = 1e-6
) -> Tensor:
    """MSSSeg supplement Eq. XII: the box-counting dimension of a signature.

    ``D = slope of log N_s against log(1 / s)``, fitted by least squares
    (differentiably), over the k sizes; ``eps`` keeps ``log`` finite on
    empty maps. The scalar alternative of Table VII.

    Args:
        signature (Tensor): (..., k) counts (raw, before
            :func:`normalise_counts`).
        box_sizes (Sequence[int]): The k >= 2 sizes.
        eps (float): Added to the counts before the log.

    Returns:
        Tensor: (..., 1) slopes.
    """
    if len(box_sizes) < 2:
        raise ValueError(
            f'a slope needs at least 2 box sizes, got {tuple(box_sizes)}'
        )
    log_counts = torch.log(signature + eps)
    log_scale = -torch.log(signature.new_tensor(box_sizes))
    centred_scale = log_scale - log_scale.mean()
    centred_counts = log_counts - log_counts.mean(-1, keepdim=True)
    slope = (centred_counts * centred_scale).sum(-1) / centred_scale.pow(
        2
    ).sum()
    return slope.unsqueeze(-1)


def class_masks(
    segmentation: Tensor, num_classes: int, ignore_index: int = 255
) -> Tensor:
    """Per-class masks ``M_k`` of a segmentation (MSSSeg §3.2, SA input).

    Integer labels (B, H, W) become one-hot masks (pixels of
    ``ignore_index`` belong to no class); soft probabilities (B, K, H, W)
    are the masks as they are (differentiable).

    Args:
        segmentation (Tensor): Labels (B, H, W) or probabilities
            (B, K, H, W).
        num_classes (int): K.
        ignore_index (int): Unlabelled pixels. Defaults to 255.

    Returns:
        Tensor: (B, K, H, W) float masks.

    Raises:
        ValueError: A label outside [0, K) other than ``ignore_index``, or
            a probability map with another number of channels (named).
    """
    if segmentation.is_floating_point():
        check_maps(segmentation, 'segmentation probabilities')
        if segmentation.shape[1] != num_classes:
            raise ValueError(
                f'segmentation probabilities have {segmentation.shape[1]} '
                f'channels, expected num_classes={num_classes}'
            )
        return segmentation
    if segmentation.dim() != 3:
        raise ValueError(
            'segmentation labels must be (B, H, W), got shape '
            f'{tuple(segmentation.shape)}'
        )
    labelled = segmentation != ignore_index
    bad = labelled & ((segmentation < 0) | (segmentation >= num_classes))
    if bad.any():
        raise ValueError(
            f'segmentation label {int(segmentation[bad][0])} is outside '
            f'[0, {num_classes}) and is not ignore_index={ignore_index}'
        )
    labels = torch.where(labelled, segmentation, 0).long()
    masks = F.one_hot(labels, num_classes).permute(0, 3, 1, 2)
    return (masks * labelled.unsqueeze(1)).float()


def morphological_gradient(masks: Tensor, kernel_size: int = 3) -> Tensor:
    """Flat morphological gradient ``δ(M) - ε(M)`` (MSSSeg §3.2, SB input).

    Dilation and erosion are the max and min over a k x k square (the
    structuring element is not given; 3 x 3 by default). The window is
    clipped to the map, so the image border is no class boundary. On a
    binary mask the result is 1 on both sides of each boundary.

    Args:
        masks (Tensor): (B, K, H, W).
        kernel_size (int): Odd side of the square. Defaults to 3.

    Returns:
        Tensor: (B, K, H, W), differentiable.
    """
    check_maps(masks, 'masks')
    check_odd_window(kernel_size, 'boundary kernel_size')
    pad = kernel_size // 2
    dilated = F.max_pool2d(masks, kernel_size, 1, pad)
    eroded = -F.max_pool2d(-masks, kernel_size, 1, pad)
    return dilated - eroded


def check_odd_window(size: int, name: str) -> None:
    """Refuse a window side that is not a positive odd integer."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f'{name} must be a positive odd int, got {size!r}')
    if size % 2 == 0:
        raise ValueError(f'{name} must be odd, got {size}')


def normalise_depth(depth: Tensor, eps: float = 1e-6) -> Tensor:
    """Per-image min-max normalisation of depth (B, 1, H, W) to [0, 1]
    ("a normalized depth map", §3.2); a constant map becomes 0."""
    check_maps(depth, 'depth')
    flat = depth.flatten(1)
    low = flat.min(1).values.view(-1, 1, 1, 1)
    high = flat.max(1).values.view(-1, 1, 1, 1)
    return (depth - low) / (high - low).clamp_min(eps)


def local_variance(depth: Tensor, window: int = 5) -> Tensor:
    """Surface roughness ``V = E_w[D^2] - (E_w[D])^2`` (MSSSeg §3.2, DA
    input), with ``E_w`` the w x w sliding mean.

    The window is not given (5 x 5 by default); it is clipped to the map
    (the mean is over the pixels inside). Clamped at 0 against rounding.

    Args:
        depth (Tensor): (B, 1, H, W).
        window (int): Odd side w. Defaults to 5.

    Returns:
        Tensor: (B, 1, H, W).
    """
    check_maps(depth, 'depth')
    check_odd_window(window, 'variance window')

    def sliding_mean(x: Tensor) -> Tensor:
        return F.avg_pool2d(x, window, 1, window // 2, count_include_pad=False)

    return (sliding_mean(depth**2) - sliding_mean(depth) ** 2).clamp_min(0)


def sobel_magnitude(
    depth: Tensor, normalized: bool = True, eps: float = 1e-6
) -> Tensor:
    """Depth edges ``||Sobel(D)||`` (MSSSeg §3.2, DB input).

    kornia's Sobel gradients (replicated border; ``normalized`` divides the
    kernels by their L1 norm, 8), magnitude ``sqrt(gx^2 + gy^2 + eps) -
    sqrt(eps)``: exactly 0 on flat depth, finite gradient everywhere.

    Args:
        depth (Tensor): (B, 1, H, W).
        normalized (bool): Normalised Sobel kernels. Defaults to True.
        eps (float): Keeps the square root differentiable at 0.

    Returns:
        Tensor: (B, 1, H, W).
    """
    check_maps(depth, 'depth')
    gradients = spatial_gradient(depth, mode='sobel', normalized=normalized)
    squared = gradients.pow(2).sum(2)
    return torch.sqrt(squared + eps) - eps**0.5
