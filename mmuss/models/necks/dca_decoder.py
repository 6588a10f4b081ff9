# Copyright (c) mmuss contributors. All rights reserved.
import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.ops import MultiScaleDeformableAttention
from mmseg.registry import MODELS
from torch import Tensor

CONDITIONINGS = ('add', 'film')


def feature_pyramid(feats: Tensor, num_levels: int) -> List[Tensor]:
    """Levels of a single-scale map: the map, then 2x, 4x, ... average
    pooled (a ViT has one scale; Deformable DETR attends over several)."""
    return [
        F.avg_pool2d(feats, 2**level, ceil_mode=True) if level else feats
        for level in range(num_levels)
    ]


def flatten_levels(levels: List[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
    """Tokens of all levels in mmcv's layout.

    Returns:
        tuple: ``(values, spatial_shapes, level_start_index)``: (B, Σ h_l
        w_l, C) tokens, (L, 2) long (h_l, w_l) and (L,) long starts.
    """
    shapes = torch.tensor(
        [level.shape[-2:] for level in levels],
        dtype=torch.long,
        device=levels[0].device,
    )
    values = torch.cat(
        [level.flatten(2).transpose(1, 2) for level in levels], 1
    )
    areas = shapes.prod(1)
    starts = torch.cat([areas.new_zeros(1), areas.cumsum(0)[:-1]])
    return values, shapes, starts


def reference_points(
    height: int, width: int, num_levels: int, device=None
) -> Tensor:
    """Pixel centres of an h x w grid, normalised to [0, 1] as (x, y), the
    same normalised point on every level: (1, h·w, L, 2)."""
    ys = (torch.arange(height, device=device) + 0.5) / height
    xs = (torch.arange(width, device=device) + 0.5) / width
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], -1)
    return points[None, :, None].expand(1, -1, num_levels, 2)


def sine_position_embedding(
    height: int, width: int, channels: int, device=None
) -> Tensor:
    """DETR's fixed 2-D sine/cosine embedding of the pixel centres:
    (1, h·w, channels), half of the channels for y, half for x."""
    if channels % 4:
        raise ValueError(
            f'the sine embedding needs channels divisible by 4, got {channels}'
        )
    quarter = channels // 4
    frequencies = 10000 ** (
        -torch.arange(quarter, device=device, dtype=torch.float32) / quarter
    )
    points = reference_points(height, width, 1, device)[0, :, 0]
    angles = 2 * math.pi * points[..., None] * frequencies  # (N, 2, q)
    x_part = torch.cat([angles[:, 0].sin(), angles[:, 0].cos()], -1)
    y_part = torch.cat([angles[:, 1].sin(), angles[:, 1].cos()], -1)
    return torch.cat([y_part, x_part], -1).unsqueeze(0)


def condition_queries(
    queries: Tensor, vector_embedding: Tensor, mode: str
) -> Tensor:
    """Inject the DBC vector into the pixel queries (MSSSeg §3.1: the DCA
    decoder "fuses v with the encoder features").

    * ``'add'``: ``q + e(v)`` at every pixel (e: (B, E));
    * ``'film'``: ``q (1 + γ(v)) + β(v)`` (e: (B, 2E) = [γ; β]).

    Args:
        queries (Tensor): (B, N, E).
        vector_embedding (Tensor): (B, E) or (B, 2E).
        mode (str): One of ``CONDITIONINGS``.
    """
    if mode == 'add':
        return queries + vector_embedding[:, None]
    scale, shift = vector_embedding[:, None].chunk(2, dim=-1)
    return queries * (1 + scale) + shift


@MODELS.register_module()
class DCADecoder(nn.Module):
    """MSSSeg's Deformable Cross-Attention decoder (Li et al., "MSSSeg",
    §3.1): fuses the DBC structure vector v = [v_S; v_D] with the encoder
    features F into refined class logits Ŷ_dca.

    The paper names the operator (Deformable DETR's multi-scale deformable
    attention, [DCA]) and nothing else; our design (all configurable):

    * F (B, C_f, h, w) is projected (1x1 conv) to E channels and pooled to
      a pyramid of ``num_levels`` levels (h, h/2, h/4, ...): the values;
    * one query per pixel of the finest level: the projected features,
      *conditioned* on v (``conditioning``: added embedding of v by
      default, or FiLM), plus a fixed sine position embedding. v thus
      steers where each pixel samples (offsets) and how it weighs the
      samples, and enters the output through the residual path; v is one
      vector per image, too little to serve as the queries themselves;
    * ``num_layers`` post-norm layers of mmcv's
      ``MultiScaleDeformableAttention`` (residual, dropout) + LayerNorm +
      FFN (ReLU) + LayerNorm, reference points at the pixel centres;
    * a 1x1 conv to the K class logits (B, K, h, w).

    On the CPU mmcv runs its pure-PyTorch path
    (``multi_scale_deformable_attn_pytorch``, bilinear ``grid_sample``,
    zero padding, ``align_corners=False``); on CUDA its kernel.

    Args:
        in_channels (int): C_f of the encoder features.
        num_classes (int): K.
        vector_channels (int): Length of v (2d of the DBC module).
        embed_dims (int): E. Defaults to 256.
        num_heads (int): Attention heads. Defaults to 8.
        num_levels (int): Pyramid levels. Defaults to 3.
        num_points (int): Sampling points per head and level.
            Defaults to 4.
        num_layers (int): Attention + FFN layers. Defaults to 1.
        feedforward_channels (int): FFN width. Defaults to 1024.
        dropout (float): Dropout of attention and FFN. Defaults to 0.1.
        conditioning (str): 'add' or 'film'. Defaults to 'add'.
        position_embedding (bool): Add the sine embedding to the queries.
            Defaults to True.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        vector_channels: int,
        embed_dims: int = 256,
        num_heads: int = 8,
        num_levels: int = 3,
        num_points: int = 4,
        num_layers: int = 1,
        feedforward_channels: int = 1024,
        dropout: float = 0.1,
        conditioning: str = 'add',
        position_embedding: bool = True,
    ) -> None:
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(
                f'conditioning must be one of {CONDITIONINGS}, got '
                f'{conditioning!r}'
            )
        for name, value in dict(
            in_channels=in_channels,
            num_classes=num_classes,
            vector_channels=vector_channels,
            num_levels=num_levels,
            num_points=num_points,
            num_layers=num_layers,
        ).items():
            if value < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        if embed_dims % num_heads:
            raise ValueError(
                f'embed_dims={embed_dims} must be divisible by '
                f'num_heads={num_heads}'
            )
        if position_embedding and embed_dims % 4:
            raise ValueError(
                f'position_embedding needs embed_dims divisible by 4, got '
                f'{embed_dims}'
            )
        self.in_channels = in_channels
        self.vector_channels = vector_channels
        self.num_levels = num_levels
        self.conditioning = conditioning
        self.position_embedding = position_embedding
        self.input_proj = nn.Conv2d(in_channels, embed_dims, kernel_size=1)
        factor = 1 if conditioning == 'add' else 2
        self.vector_proj = nn.Linear(vector_channels, factor * embed_dims)
        if conditioning == 'film':  # starts as the identity modulation
            nn.init.zeros_(self.vector_proj.weight)
            nn.init.zeros_(self.vector_proj.bias)
        self.attentions = nn.ModuleList(
            MultiScaleDeformableAttention(
                embed_dims=embed_dims,
                num_heads=num_heads,
                num_levels=num_levels,
                num_points=num_points,
                dropout=dropout,
                batch_first=True,
            )
            for _ in range(num_layers)
        )
        self.ffns = nn.ModuleList(
            nn.Sequential(
                nn.Linear(embed_dims, feedforward_channels),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(feedforward_channels, embed_dims),
                nn.Dropout(dropout),
            )
            for _ in range(num_layers)
        )
        self.attention_norms = nn.ModuleList(
            nn.LayerNorm(embed_dims) for _ in range(num_layers)
        )
        self.ffn_norms = nn.ModuleList(
            nn.LayerNorm(embed_dims) for _ in range(num_layers)
        )
        self.classifier = nn.Conv2d(embed_dims, num_classes, kernel_size=1)

    def check_inputs(self, feats: Tensor, vector: Tensor) -> None:
        """Refuse features or a vector of the wrong shape (named)."""
        if not isinstance(feats, Tensor) or feats.dim() != 4:
            got = (
                tuple(feats.shape)
                if isinstance(feats, Tensor)
                else type(feats).__name__
            )
            raise ValueError(
                'DCADecoder features must be one (B, C, h, w) tensor, got '
                f'{got}'
            )
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f'DCADecoder was built for in_channels={self.in_channels}, '
                f'the features have {feats.shape[1]}'
            )
        expected = (feats.shape[0], self.vector_channels)
        if tuple(vector.shape) != expected:
            raise ValueError(
                f'DCADecoder vector must be (B, vector_channels) = '
                f'{expected}, got {tuple(vector.shape)}'
            )

    def forward(self, feats: Tensor, vector: Tensor) -> Tensor:
        """Refined logits Ŷ_dca (B, K, h, w).

        Args:
            feats (Tensor): Encoder features F (B, C_f, h, w).
            vector (Tensor): v = [v_S; v_D] (B, vector_channels).
        """
        self.check_inputs(feats, vector)
        batch, _, height, width = feats.shape
        projected = self.input_proj(feats)
        values, shapes, starts = flatten_levels(
            feature_pyramid(projected, self.num_levels)
        )
        queries = condition_queries(
            values[:, : height * width],
            self.vector_proj(vector),
            self.conditioning,
        )
        points = reference_points(height, width, self.num_levels, feats.device)
        points = points.expand(batch, -1, -1, -1).to(feats.dtype)
        position = None
        if self.position_embedding:
            position = sine_position_embedding(
                height, width, queries.shape[-1], feats.device
            ).to(feats.dtype)
        for attention, attention_norm, ffn, ffn_norm in zip(
            self.attentions, self.attention_norms, self.ffns, self.ffn_norms
        ):
            queries = attention_norm(
                attention(
                    query=queries,
                    value=values,
                    query_pos=position,
                    reference_points=points,
                    spatial_shapes=shapes,
                    level_start_index=starts,
                )
            )
            queries = ffn_norm(queries + ffn(queries))
        tokens = queries.transpose(1, 2).reshape(batch, -1, height, width)
        return self.classifier(tokens)
