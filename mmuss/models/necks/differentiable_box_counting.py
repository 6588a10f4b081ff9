# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.box_counting import (
    COUNT_NORMS,
    POOLS,
    SIGNATURES,
    box_count_signature,
    box_counting_dimension,
    check_odd_window,
    class_masks,
    local_variance,
    morphological_gradient,
    normalise_counts,
    normalise_depth,
    resolve_box_sizes,
    sobel_magnitude,
)

SEMANTIC_DESCRIPTORS = ('SA', 'SB')
DEPTH_DESCRIPTORS = ('DA', 'DB')
DESCRIPTORS = SEMANTIC_DESCRIPTORS + DEPTH_DESCRIPTORS
CLASS_REDUCTIONS = ('flatten', 'sum')


class StructureVectors(NamedTuple):
    """The DBC module's aligned vectors (MSSSeg §3.2): ``semantic`` v_S and
    ``depth`` v_D, each (B, d)."""

    semantic: Tensor
    depth: Tensor

    @property
    def joint(self) -> Tensor:
        """``v = [v_S; v_D]`` (B, 2d), what the DCA decoder receives."""
        return torch.cat([self.semantic, self.depth], dim=1)


def projection_mlp(in_channels: int, hidden: int, out: int) -> nn.Module:
    """One domain's "lightweight MLP" (§3.2): Linear-ReLU-Linear."""
    return nn.Sequential(
        nn.Linear(in_channels, hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, out),
    )


@MODELS.register_module()
class DifferentiableBoxCounting(nn.Module):
    """MSSSeg's Differentiable Box-Counting module (Li et al., "MSSSeg",
    §3.2, Eqs. 3-5): structural signatures of the segmentation and the
    depth, projected to two aligned vectors.

    Four descriptors, each the box-count signature Φ (Eq. 5, the sum of
    box maxima of Eq. 4 at every box size; see
    :mod:`mmuss.models.utils.box_counting`) of a map:

    * SA, semantic area: the class masks ``M_k`` (one-hot labels, or soft
      probabilities), (B, K, k);
    * SB, semantic boundary: their morphological gradient ``δ(M) - ε(M)``;
    * DA, depth area: the local variance of the normalised depth, (B, 1, k);
    * DB, depth boundary: the Sobel magnitude of the normalised depth.

    The semantic signatures go through one MLP to v_S, the depth ones
    through another to v_D (both of dimension d); L_align
    (:class:`~mmuss.models.losses.DBCAlignmentLoss`) ties them and
    ``StructureVectors.joint`` feeds the DCA decoder.

    Choices where the paper is silent (all configurable): the counts are
    put on one scale before the MLPs (``count_norm``), the K class
    signatures are concatenated in class order (``class_reduction``; the
    pseudo-label ids are shared by all images), MLPs Linear-ReLU-Linear
    with ``hidden_channels`` 128 to d = 64, a 3 x 3 structuring element, a
    5 x 5 variance window, depth min-max normalised per image.

    Ablations of the paper reachable by config: ``descriptors`` (Table 2),
    ``box_sizes`` (Table VI; ``'f'`` default, ``'g'``, or any sizes),
    ``signature='slope'`` (Table VII, the box-counting dimension of
    Eq. XII instead of the signature), ``pool='avg'`` and one box size
    (Table VIII).

    Args:
        num_classes (int): K, the channels of the segmentation.
        box_sizes (str | Sequence[int]): A preset of
            ``BOX_SIZE_PRESETS`` or the sizes. Defaults to ``'f'``,
            (2, 4, 8, 16, 32, 64).
        descriptors (Sequence[str]): Subset of ``DESCRIPTORS`` with at
            least one semantic and one depth descriptor. Defaults to all.
        out_channels (int): d. Defaults to 64.
        hidden_channels (int): MLP width. Defaults to 128.
        pool (str): 'max' (Eq. 4) or 'avg'. Defaults to 'max'.
        signature (str): 'counts' (Eq. 5) or 'slope' (Eq. XII).
            Defaults to 'counts'.
        count_norm (str): 'fraction' (occupied fraction of the grid),
            'log' (log1p) or 'none'; not applied to slopes.
            Defaults to 'fraction'.
        class_reduction (str): 'flatten' (K signatures in class order) or
            'sum' (summed over classes: invariant to the class ids).
            Defaults to 'flatten'.
        boundary_kernel (int): Side of the SB structuring element.
            Defaults to 3.
        variance_window (int): Side of the DA window. Defaults to 5.
        depth_normalisation (bool): Min-max normalise each depth map.
            Defaults to True.
        size (int | tuple[int, int], optional): Resize both maps to this
            (H, W) first (bilinear; nearest for labels). Without it they
            must have the same size.
        ignore_index (int): Unlabelled pixels of label maps.
            Defaults to 255.
    """

    def __init__(
        self,
        num_classes: int,
        box_sizes: Union[str, Sequence[int]] = 'f',
        descriptors: Sequence[str] = DESCRIPTORS,
        out_channels: int = 64,
        hidden_channels: int = 128,
        pool: str = 'max',
        signature: str = 'counts',
        count_norm: str = 'fraction',
        class_reduction: str = 'flatten',
        boundary_kernel: int = 3,
        variance_window: int = 5,
        depth_normalisation: bool = True,
        size: Optional[Union[int, Tuple[int, int]]] = None,
        ignore_index: int = 255,
    ) -> None:
        super().__init__()
        check_choice('pool', pool, POOLS)
        check_choice('signature', signature, SIGNATURES)
        check_choice('count_norm', count_norm, COUNT_NORMS)
        check_choice('class_reduction', class_reduction, CLASS_REDUCTIONS)
        check_odd_window(boundary_kernel, 'boundary_kernel')
        check_odd_window(variance_window, 'variance_window')
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        self.num_classes = num_classes
        self.box_sizes = resolve_box_sizes(box_sizes)
        if signature == 'slope' and len(self.box_sizes) < 2:
            raise ValueError(
                "signature='slope' needs at least 2 box sizes, got "
                f'{self.box_sizes}'
            )
        self.descriptors = check_descriptors(descriptors)
        self.pool = pool
        self.signature = signature
        self.count_norm = count_norm
        self.class_reduction = class_reduction
        self.boundary_kernel = boundary_kernel
        self.variance_window = variance_window
        self.depth_normalisation = depth_normalisation
        self.size = (size, size) if isinstance(size, int) else size
        self.ignore_index = ignore_index
        self.out_channels = out_channels
        length = 1 if signature == 'slope' else len(self.box_sizes)
        classes = num_classes if class_reduction == 'flatten' else 1
        semantic = [d for d in self.descriptors if d in SEMANTIC_DESCRIPTORS]
        depth = [d for d in self.descriptors if d in DEPTH_DESCRIPTORS]
        self.semantic_mlp = projection_mlp(
            len(semantic) * classes * length, hidden_channels, out_channels
        )
        self.depth_mlp = projection_mlp(
            len(depth) * length, hidden_channels, out_channels
        )

    def prepare_inputs(
        self, segmentation: Tensor, depth: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """Class masks (B, K, H, W) and depth (B, 1, H, W) at one size.

        Raises:
            ValueError: Mismatched batch or spatial sizes, a depth map
                that is not float (B, H, W) or (B, 1, H, W), or bad labels
                (see :func:`class_masks`).
        """
        if depth.dim() == 3:
            depth = depth.unsqueeze(1)
        if depth.dim() != 4 or depth.shape[1] != 1:
            raise ValueError(
                'depth must be (B, H, W) or (B, 1, H, W), got shape '
                f'{tuple(depth.shape)}'
            )
        if not depth.is_floating_point():
            raise ValueError(
                f'depth must be floating point, got {depth.dtype}'
            )
        if segmentation.shape[0] != depth.shape[0]:
            raise ValueError(
                f'segmentation has {segmentation.shape[0]} images, depth '
                f'{depth.shape[0]}'
            )
        if self.size is not None:
            segmentation = resize_segmentation(segmentation, self.size)
            depth = F.interpolate(
                depth, self.size, mode='bilinear', align_corners=False
            )
        if segmentation.shape[-2:] != depth.shape[-2:]:
            raise ValueError(
                f'segmentation is {tuple(segmentation.shape[-2:])} pixels, '
                f'depth {tuple(depth.shape[-2:])}: resize them or set size'
            )
        masks = class_masks(segmentation, self.num_classes, self.ignore_index)
        if self.depth_normalisation:
            depth = normalise_depth(depth)
        return masks, depth

    def descriptor_maps(
        self, masks: Tensor, depth: Tensor
    ) -> Dict[str, Tensor]:
        """The map each selected descriptor counts, by name."""
        makers = dict(
            SA=lambda: masks,
            SB=lambda: morphological_gradient(masks, self.boundary_kernel),
            DA=lambda: local_variance(depth, self.variance_window),
            DB=lambda: sobel_magnitude(depth),
        )
        return {name: makers[name]() for name in self.descriptors}

    def describe(self, maps: Tensor) -> Tensor:
        """The (B, C, k) signature of maps (B, C, H, W), scaled, or their
        (B, C, 1) box-counting dimension."""
        counts = box_count_signature(maps, self.box_sizes, self.pool)
        if self.signature == 'slope':
            return box_counting_dimension(counts, self.box_sizes)
        height, width = maps.shape[-2:]
        return normalise_counts(
            counts, self.box_sizes, height, width, self.count_norm
        )

    def signatures(
        self, segmentation: Tensor, depth: Tensor
    ) -> Dict[str, Tensor]:
        """The four (or selected) descriptors: SA, SB (B, K, k), DA, DB
        (B, 1, k).

        Args:
            segmentation (Tensor): Labels (B, H, W) or probabilities
                (B, K, H, W).
            depth (Tensor): (B, H, W) or (B, 1, H, W).
        """
        masks, depth = self.prepare_inputs(segmentation, depth)
        maps = self.descriptor_maps(masks, depth)
        return {name: self.describe(value) for name, value in maps.items()}

    def flatten_domain(self, signatures: Dict[str, Tensor], names) -> Tensor:
        """One domain's signatures as the (B, n) input of its MLP."""
        parts = []
        for name in self.descriptors:
            if name not in names:
                continue
            value = signatures[name]
            if self.class_reduction == 'sum':
                value = value.sum(1, keepdim=True)
            parts.append(value.flatten(1))
        return torch.cat(parts, dim=1)

    def forward(self, segmentation: Tensor, depth: Tensor) -> StructureVectors:
        """v_S and v_D of a segmentation and its depth map.

        Args:
            segmentation (Tensor): Pseudo labels (B, H, W) (int) or
                segmentation probabilities (B, K, H, W) (float, whose
                gradient is kept).
            depth (Tensor): (B, H, W) or (B, 1, H, W).

        Returns:
            StructureVectors: (B, d) each; ``.joint`` is (B, 2d).
        """
        signatures = self.signatures(segmentation, depth)
        semantic = self.flatten_domain(signatures, SEMANTIC_DESCRIPTORS)
        depth_part = self.flatten_domain(signatures, DEPTH_DESCRIPTORS)
        return StructureVectors(
            self.semantic_mlp(semantic), self.depth_mlp(depth_part)
        )


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Refuse ``value`` outside ``choices``, naming the option."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


def check_descriptors(descriptors: Sequence[str]) -> Tuple[str, ...]:
    """The descriptors in the canonical order, checked.

    Raises:
        ValueError: An unknown or repeated name, or a domain left without
            any descriptor (its MLP would have no input).
    """
    names = tuple(descriptors)
    unknown = [d for d in names if d not in DESCRIPTORS]
    if unknown:
        raise ValueError(
            f'unknown descriptors {unknown}; choose from {DESCRIPTORS}'
        )
    if len(set(names)) != len(names):
        raise ValueError(f'descriptors must not repeat, got {names}')
    for domain in (SEMANTIC_DESCRIPTORS, DEPTH_DESCRIPTORS):
        if not set(names) & set(domain):
            raise ValueError(
                f'descriptors {names} leave out both of {domain}: each '
                'domain needs one for its vector'
            )
    return tuple(d for d in DESCRIPTORS if d in names)


def resize_segmentation(segmentation: Tensor, size: Tuple[int, int]) -> Tensor:
    """Labels (nearest) or probabilities (bilinear) at ``size``."""
    if segmentation.is_floating_point():
        return F.interpolate(
            segmentation, size, mode='bilinear', align_corners=False
        )
    resized = F.interpolate(
        segmentation.unsqueeze(1).float(), size, mode='nearest'
    )
    return resized.squeeze(1).to(segmentation.dtype)
