# Copyright (c) mmuss contributors. All rights reserved.
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmseg.registry import MODELS
from torch import Tensor

from mmuss.models.utils.dino_checkpoint import read_dino_checkpoint

_DINO_ARCHS = {
    **dict.fromkeys(
        ['dino-s', 'dino-small', 'dinov2-s', 'dinov2-small'],
        {
            'embed_dims': 384,
            'num_layers': 12,
            'num_heads': 6,
            'feedforward_channels': 1536,
        },
    ),
    **dict.fromkeys(
        ['dino-b', 'dino-base', 'dinov2-b', 'dinov2-base'],
        {
            'embed_dims': 768,
            'num_layers': 12,
            'num_heads': 12,
            'feedforward_channels': 3072,
        },
    ),
    **dict.fromkeys(
        ['dinov2-l', 'dinov2-large'],
        {
            'embed_dims': 1024,
            'num_layers': 24,
            'num_heads': 16,
            'feedforward_channels': 4096,
        },
    ),
}


def interpolate_pos_embed_official(
    pos_embed: Tensor,
    src_grid: Tuple[int, int],
    dst_grid: Tuple[int, int],
    num_extra_tokens: int = 1,
    offset: float = 0.1,
) -> Tensor:
    """Resize ViT position embeddings as the official DINO and DINOv2 code
    does (``interpolate_pos_encoding``).

    Bicubic interpolation driven by the scale factor
    ``(dst + offset) / src`` (not by the output size), without antialiasing.
    The grid is returned unchanged when it already has the target size.

    Args:
        pos_embed (Tensor): (1, num_extra_tokens + Hs*Ws, C).
        src_grid (tuple[int, int]): (Hs, Ws) of ``pos_embed``.
        dst_grid (tuple[int, int]): Target patch grid (H, W).
        num_extra_tokens (int): Leading tokens not on the grid (CLS).
        offset (float): The official ``interpolate_offset``. Defaults to 0.1.

    Returns:
        Tensor: (1, num_extra_tokens + H*W, C).
    """
    if tuple(src_grid) == tuple(dst_grid):
        return pos_embed
    extra = pos_embed[:, :num_extra_tokens]
    grid = pos_embed[:, num_extra_tokens:]
    channels = grid.shape[-1]
    grid = grid.reshape(1, src_grid[0], src_grid[1], channels)
    grid = F.interpolate(
        grid.permute(0, 3, 1, 2).float(),
        scale_factor=(
            (dst_grid[0] + offset) / src_grid[0],
            (dst_grid[1] + offset) / src_grid[1],
        ),
        mode='bicubic',
        align_corners=False,
    )
    if tuple(grid.shape[-2:]) != tuple(dst_grid):
        raise RuntimeError(
            f'interpolated position grid {grid.shape[-2:]} '
            f'differs from the patch grid {dst_grid}'
        )
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, channels)
    return torch.cat([extra, grid.to(pos_embed.dtype)], dim=1)


@MODELS.register_module()
class DINOVisionTransformer(VisionTransformer):
    """DINO / DINOv2 ViT feature extractor on mmpretrain's VisionTransformer.

    `DINO <https://arxiv.org/abs/2104.14294>`_ and
    `DINOv2 <https://arxiv.org/abs/2304.07193>`_ backbones as the
    unsupervised segmentation papers use them: the dense patch tokens of the
    last block after the final LayerNorm, CLS token dropped, reshaped to
    ``(B, C, H/p, W/p)``.

    The official release checkpoints (``dino_deitsmall8_pretrain.pth``,
    ``dino_vitbase8_pretrain.pth``, ``dinov2_vits14_pretrain.pth``,
    ``dinov2_vitb14_pretrain.pth``; full DINO training checkpoints and
    mmpretrain-format files too) load directly: give their URL or local path
    as ``init_cfg=dict(type='Pretrained', checkpoint=...)`` and the keys are
    converted at load time. Loading uses ``weights_only=True``. Missing or
    unexpected keys are an error (``strict_keys=True``) or a warning.

    Position embeddings are interpolated to the input's patch grid as the
    official code does (``pos_embed_interpolation='official'``: bicubic by
    scale factor with a 0.1 offset) or as mmpretrain does (``'mmpretrain'``:
    bicubic to the target size). They agree when the grid equals the
    pretraining grid (224/8 = 28 for DINO, 518/14 = 37 for DINOv2).

    Note: mmpretrain pads inputs whose size is not a multiple of the patch
    size (``padding='corner'``); the official code drops the remainder. Use
    input sizes divisible by the patch size, as the protocols do.

    Args:
        arch (str | dict): ``'dino-small'``, ``'dino-base'``,
            ``'dinov2-small'``, ``'dinov2-base'``, ``'dinov2-large'``, any
            mmpretrain ViT arch, or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads`` and ``feedforward_channels``.
            Defaults to ``'dino-small'``.
        patch_size (int): Patch size (8 or 16 for DINO, 14 for DINOv2).
            Defaults to 8.
        img_size (int, optional): Resolution of the stored position grid.
            Defaults to 518 for DINOv2 archs and 224 otherwise, the
            resolutions of the releases.
        layer_scale_init_value (float, optional): Defaults to 1e-5 for
            DINOv2 archs (which have LayerScale) and 0 otherwise.
        out_type (str): Defaults to ``'featmap'``.
        pos_embed_interpolation (str): ``'official'`` or ``'mmpretrain'``.
            Defaults to ``'official'``.
        interpolate_offset (float): Offset of the official interpolation.
            Defaults to 0.1.
        strict_keys (bool): Raise on missing or unexpected checkpoint keys
            instead of warning. Defaults to True.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=URL_OR_PATH)`` loads a checkpoint; anything else is
            passed to mmpretrain.
        init_seed (int, optional): Without a checkpoint, draw the random
            weights from this seed (independently of the global random
            state), so that every process and tool that builds the config
            gets the same backbone; e.g. the embedded demo's random ViT,
            whose precomputed proposals and cached features must match the
            training backbone. Defaults to None (the global random state).
        **kwargs: Other arguments of mmpretrain's ``VisionTransformer``.
    """

    arch_zoo = {**VisionTransformer.arch_zoo, **_DINO_ARCHS}

    def __init__(
        self,
        arch: Union[str, dict] = 'dino-small',
        patch_size: int = 8,
        img_size: int | None = None,
        layer_scale_init_value: float | None = None,
        out_type: str = 'featmap',
        out_indices: Union[int, Sequence[int]] = -1,
        pos_embed_interpolation: str = 'official',
        interpolate_offset: float = 0.1,
        strict_keys: bool = True,
        init_cfg: dict | None = None,
        init_seed: int | None = None,
        **kwargs,
    ) -> None:
        is_v2 = isinstance(arch, str) and arch.lower().startswith('dinov2')
        if img_size is None:
            img_size = 518 if is_v2 else 224
        if layer_scale_init_value is None:
            layer_scale_init_value = 1e-5 if is_v2 else 0.0
        if pos_embed_interpolation not in ('official', 'mmpretrain'):
            raise ValueError(
                'pos_embed_interpolation must be "official" or '
                f'"mmpretrain", got {pos_embed_interpolation!r}'
            )
        self.pretrained_checkpoint = None
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            self.pretrained_checkpoint = init_cfg['checkpoint']
        super().__init__(
            arch=arch,
            patch_size=patch_size,
            img_size=img_size,
            layer_scale_init_value=layer_scale_init_value,
            out_type=out_type,
            out_indices=list(out_indices)
            if isinstance(out_indices, (list, tuple))
            else out_indices,
            init_cfg=init_cfg,
            **kwargs,
        )
        self.pos_embed_interpolation = pos_embed_interpolation
        self.interpolate_offset = interpolate_offset
        self.strict_keys = strict_keys
        self.init_seed = init_seed

    def train(self, mode: bool = True) -> 'DINOVisionTransformer':
        """Set the mode and return self (mmpretrain's ViT returns None, so
        ``model.eval()`` could not be used as an expression)."""
        super().train(mode)
        return self

    def init_weights(self) -> None:
        """Load the configured checkpoint, or initialise randomly."""
        if self.pretrained_checkpoint is None:
            if self.init_seed is None:
                super().init_weights()
            else:
                self._seeded_random_init(self.init_seed)
            return
        self.load_pretrained(self.pretrained_checkpoint)
        self._is_init = True

    def _seeded_random_init(self, seed: int) -> None:
        """Redraw every weight from ``seed``: the modules' own default
        initialisation (done at construction under the global random state),
        then mmpretrain's."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for module in self.modules():
                if module is not self and hasattr(module, 'reset_parameters'):
                    module.reset_parameters()
            super().init_weights()

    def load_pretrained(self, checkpoint: str) -> None:
        """Load an official DINO/DINOv2 release (URL or path) into the ViT.

        Args:
            checkpoint (str): URL or local path of the checkpoint.

        Raises:
            KeyError: With ``strict_keys``, when keys are missing or
                unexpected; the message lists them.
        """
        state_dict = read_dino_checkpoint(checkpoint)
        incompatible = self.load_state_dict(state_dict, strict=False)
        missing = list(incompatible.missing_keys)
        unexpected = list(incompatible.unexpected_keys)
        if not missing and not unexpected:
            print_log(
                f'Loaded backbone checkpoint {checkpoint}', logger='current'
            )
            return
        report = (
            f'backbone checkpoint {checkpoint} does not match '
            f'{type(self).__name__}(arch={self.arch_settings}): '
            f'missing keys {missing}, unexpected keys {unexpected}'
        )
        if self.strict_keys:
            raise KeyError(report)
        print_log(report, logger='current', level=30)

    def _pos_embed_for(self, patch_resolution: Tuple[int, int]) -> Tensor:
        """Position embeddings resized to ``patch_resolution``."""
        if self.pos_embed_interpolation == 'official':
            return interpolate_pos_embed_official(
                self.pos_embed,
                self.patch_resolution,
                patch_resolution,
                self.num_extra_tokens,
                self.interpolate_offset,
            )
        return resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens,
        )

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Extract the configured outputs (dense patch features by default).

        Args:
            x (Tensor): Images (B, 3, H, W), normalised.

        Returns:
            tuple[Tensor]: One output per ``out_indices`` entry; with
            ``out_type='featmap'`` each is (B, C, H/p, W/p).
        """
        batch_size = x.shape[0]
        x, patch_resolution = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat(
                [self.cls_token.expand(batch_size, -1, -1), x], dim=1
            )
        x = self.drop_after_pos(x + self._pos_embed_for(patch_resolution))
        x = self.pre_norm(x)
        outs = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index == len(self.layers) - 1 and self.final_norm:
                x = self.ln1(x)
            if index in self.out_indices:
                outs.append(self._format_output(x, patch_resolution))
        return tuple(outs)
