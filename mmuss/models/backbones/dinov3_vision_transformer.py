# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Sequence, Tuple, Union

from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from mmuss.models.utils.dinov3_checkpoint import (
    hf_to_module_keys,
    read_dinov3_checkpoint,
)

_SMALL = dict(embed_dims=384, num_layers=12, num_heads=6)
#: The official hub models (facebookresearch/dinov3
#: ``dinov3/hub/backbones.py``): width, depth, heads, FFN ratio and type.
DINOV3_ARCHS = {
    **dict.fromkeys(
        ['s', 'small', 'vits16'], dict(**_SMALL, ffn_ratio=4.0, ffn='mlp')
    ),
    **dict.fromkeys(
        ['s+', 'small-plus', 'vits16plus'],
        dict(**_SMALL, ffn_ratio=6.0, ffn='swiglu'),
    ),
    **dict.fromkeys(
        ['b', 'base', 'vitb16'],
        dict(
            embed_dims=768,
            num_layers=12,
            num_heads=12,
            ffn_ratio=4.0,
            ffn='mlp',
        ),
    ),
    **dict.fromkeys(
        ['l', 'large', 'vitl16'],
        dict(
            embed_dims=1024,
            num_layers=24,
            num_heads=16,
            ffn_ratio=4.0,
            ffn='mlp',
        ),
    ),
}
_ARCH_KEYS = {'embed_dims', 'num_layers', 'num_heads', 'ffn_ratio', 'ffn'}


def ffn_hidden_features(
    embed_dims: int, ffn_ratio: float, ffn: str, align_to: int = 8
) -> int:
    """Hidden width of the official FFN: ``int(C * ratio)`` for the GELU
    MLP; for SwiGLU two thirds of it, rounded up to a multiple of
    ``align_to`` (official ``SwiGLUFFN``; ViT-S+/16: 384 * 6 -> 1536).

    Raises:
        ValueError: For an FFN type other than ``'mlp'`` or ``'swiglu'``.
    """
    hidden = int(embed_dims * ffn_ratio)
    if ffn == 'mlp':
        return hidden
    if ffn != 'swiglu':
        raise ValueError(f"ffn must be 'mlp' or 'swiglu', got {ffn!r}")
    gated = int(hidden * 2 / 3)
    return gated + (-gated % align_to)


def resolve_dinov3_arch(arch: Union[str, dict]) -> dict:
    """The settings of an arch name (see :data:`DINOV3_ARCHS`) or dict.

    Raises:
        ValueError: For an unknown name or a dict missing settings.
    """
    if isinstance(arch, str):
        if arch.lower() not in DINOV3_ARCHS:
            raise ValueError(
                f'unknown DINOv3 arch {arch!r}; choose one of '
                f'{sorted(DINOV3_ARCHS)} or give a dict with {_ARCH_KEYS}'
            )
        return dict(DINOV3_ARCHS[arch.lower()])
    missing = _ARCH_KEYS - set(arch)
    if missing:
        raise ValueError(f'DINOv3 arch dict {arch} lacks {sorted(missing)}')
    return dict(arch)


def check_input_size(height: int, width: int, patch_size: int) -> None:
    """Raise a ValueError naming the size unless both sides are multiples
    of the patch size (the patch convolution would silently drop the
    remainder and the feature map would not cover the image)."""
    if height % patch_size or width % patch_size:
        raise ValueError(
            f'DINOv3VisionTransformer: input size {height}x{width} is not '
            f'divisible by the patch size {patch_size}; resize or crop '
            f'to multiples of {patch_size}'
        )


def tokens_to_feature_map(
    tokens: Tensor, num_prefix_tokens: int, grid: Tuple[int, int]
) -> Tensor:
    """(B, prefix + h*w, C) tokens -> (B, C, h, w) patch features, the CLS
    and register tokens dropped."""
    patches = tokens[:, num_prefix_tokens:]
    return patches.transpose(1, 2).reshape(
        tokens.shape[0], tokens.shape[-1], *grid
    )


@MODELS.register_module()
class DINOv3VisionTransformer(BaseModule):
    """DINOv3 ViT feature extractor (patch 16, RoPE, 4 registers).

    `DINOv3 <https://arxiv.org/abs/2508.10104>`_ backbones as UniM2 (UMSS,
    supplement §8 and Tables 1-3) uses them: the patch tokens of the last
    block after the final LayerNorm (the official
    ``x_norm_patchtokens``), CLS and register tokens dropped, as
    ``(B, C, H/16, W/16)``. RoPE positions are computed for the input's
    patch grid, so any size divisible by 16 works (others raise).

    The transformer is ``transformers``' ``DINOv3ViTModel``, wrapped, not
    reimplemented. It was chosen over timm's ``vit_*_patch16_dinov3``
    because transformers is already a runtime dependency of mmuss (timm
    is a test-only one), because the Hugging Face releases are its native
    format, and because it matches the official models as released: query
    and value biases with no key bias (the official ``mask_k_bias``; timm's
    default variants drop the qkv bias altogether), SwiGLU for S+/16,
    LayerScale 1e-5, LayerNorm eps 1e-5, RoPE base 100 with coordinates
    normalised per side, 4 register tokens. Both official weight layouts
    load directly (see :mod:`mmuss.models.utils.dinov3_checkpoint`); give
    the path as ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``.

    Args:
        arch (str | dict): ``'small'`` (``'s'``, ``'vits16'``),
            ``'small-plus'`` (``'s+'``, ``'vits16plus'``), ``'base'``
            (``'b'``, ``'vitb16'``), ``'large'`` (``'l'``, ``'vitl16'``) or a
            dict with ``embed_dims``, ``num_layers``, ``num_heads``,
            ``ffn_ratio`` and ``ffn`` (``'mlp'`` or ``'swiglu'``).
            Defaults to ``'small'``.
        patch_size (int): Defaults to 16 (every release).
        num_register_tokens (int): Defaults to 4 (every release).
        out_indices (int | Sequence[int]): Blocks whose tokens are returned,
            each through the final LayerNorm (the official
            ``get_intermediate_layers(norm=True)``; UniM2's ``'fea'`` option
            concatenates the last three). Defaults to -1.
        rope_base (float): RoPE base (official ``pos_embed_rope_base``).
            Defaults to 100.
        rope_rescale (float, optional): Training-time augmentation of the
            RoPE coordinates by a log-uniform factor in ``[1/r, r]``, which
            the official models apply whenever they are in train mode
            (``pos_embed_rope_rescale_coords=2``). Defaults to None (off):
            a frozen feature extractor should not change with the mode.
        layer_scale_init_value (float): Initial LayerScale (no effect once
            weights are loaded). Defaults to 1e-5.
        strict_keys (bool): Raise on missing, unexpected or mis-shaped
            checkpoint keys instead of warning. Defaults to True.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=PATH)`` loads a checkpoint (Meta ``.pth`` file or
            URL, Hugging Face ``model.safetensors`` or model folder, or an
            mmuss-converted file). Without it the weights stay random.
    """

    def __init__(
        self,
        arch: Union[str, dict] = 'small',
        patch_size: int = 16,
        num_register_tokens: int = 4,
        out_indices: Union[int, Sequence[int]] = -1,
        rope_base: float = 100.0,
        rope_rescale: float | None = None,
        layer_scale_init_value: float = 1e-5,
        strict_keys: bool = True,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch_settings = resolve_dinov3_arch(arch)
        self.patch_size = patch_size
        self.num_register_tokens = num_register_tokens
        self.rope_base = rope_base
        self.strict_keys = strict_keys
        self.embed_dims = self.arch_settings['embed_dims']
        num_layers = self.arch_settings['num_layers']
        indices = (
            [out_indices] if isinstance(out_indices, int) else out_indices
        )
        self.out_indices = [self._check_index(i, num_layers) for i in indices]
        self.vit = self._build_vit(layer_scale_init_value, rope_rescale)

    @staticmethod
    def _check_index(index: int, num_layers: int) -> int:
        """A block index made non-negative (raises when out of range)."""
        if not -num_layers <= index < num_layers:
            raise ValueError(
                f'out_indices entry {index} is out of range for '
                f'{num_layers} blocks'
            )
        return index % num_layers

    def _build_vit(
        self, layer_scale_init_value: float, rope_rescale: float | None
    ):
        """transformers' ``DINOv3ViTModel`` for these settings (imported
        here: transformers takes seconds to import)."""
        from transformers import DINOv3ViTConfig, DINOv3ViTModel

        settings = self.arch_settings
        gated = settings['ffn'] == 'swiglu'
        config = DINOv3ViTConfig(
            patch_size=self.patch_size,
            hidden_size=settings['embed_dims'],
            intermediate_size=ffn_hidden_features(
                settings['embed_dims'], settings['ffn_ratio'], settings['ffn']
            ),
            num_hidden_layers=settings['num_layers'],
            num_attention_heads=settings['num_heads'],
            hidden_act='silu' if gated else 'gelu',
            use_gated_mlp=gated,
            layer_norm_eps=1e-5,
            rope_theta=self.rope_base,
            query_bias=True,
            key_bias=False,
            value_bias=True,
            layerscale_value=layer_scale_init_value,
            num_register_tokens=self.num_register_tokens,
            pos_embed_shift=None,
            pos_embed_jitter=None,
            pos_embed_rescale=rope_rescale,
        )
        return DINOv3ViTModel(config)

    @property
    def head_dims(self) -> int:
        """Channels per attention head."""
        return self.embed_dims // self.arch_settings['num_heads']

    def init_weights(self) -> None:
        """Load the configured checkpoint; without one, keep the random
        weights drawn at construction."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            self.load_pretrained(cfg['checkpoint'])
        self._is_init = True

    def load_pretrained(self, checkpoint: str) -> Dict[str, List[str]]:
        """Load a DINOv3 checkpoint of either official layout.

        Args:
            checkpoint (str): Path, folder or URL (see the class doc).

        Returns:
            dict: ``missing``, ``unexpected``, ``mismatched`` and
            ``dropped`` key lists.

        Raises:
            KeyError: With ``strict_keys``, when keys are missing,
                unexpected or of the wrong shape; nothing is loaded then.
        """
        state_dict, dropped, layout = read_dinov3_checkpoint(
            checkpoint, self.rope_base, self.head_dims
        )
        own = self.vit.state_dict()
        state_dict = hf_to_module_keys(state_dict, list(own))
        report = dict(**self.match_state_dict(state_dict), dropped=dropped)
        problems = {k: v for k, v in report.items() if v and k != 'dropped'}
        if problems:
            message = (
                f'DINOv3 checkpoint {checkpoint} ({layout} layout) does not '
                f'match DINOv3VisionTransformer(arch={self.arch_settings}): '
                + '; '.join(f'{k} keys {v}' for k, v in problems.items())
            )
            if self.strict_keys:
                raise KeyError(message)
            print_log(message, logger='current', level=30)
        usable = {
            k: v
            for k, v in state_dict.items()
            if k in own and v.shape == own[k].shape
        }
        self.vit.load_state_dict(usable, strict=False)
        print_log(
            f'Loaded DINOv3 checkpoint {checkpoint} ({layout} layout; '
            f'dropped {dropped})',
            logger='current',
        )
        return report

    def match_state_dict(self, state_dict: Dict) -> Dict[str, List[str]]:
        """Keys of ``state_dict`` (the wrapped model's names) that are
        ``missing``, ``unexpected`` or ``mismatched`` (wrong shape)."""
        own = self.vit.state_dict()
        return dict(
            missing=sorted(set(own) - set(state_dict)),
            unexpected=sorted(set(state_dict) - set(own)),
            mismatched=sorted(
                f'{k}: {tuple(v.shape)} vs {tuple(own[k].shape)}'
                for k, v in state_dict.items()
                if k in own and v.shape != own[k].shape
            ),
        )

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Dense patch features.

        Args:
            x (Tensor): Normalised images (B, 3, H, W), H and W multiples
                of the patch size.

        Returns:
            tuple[Tensor]: One (B, C, H/16, W/16) map per ``out_indices``
            entry.
        """
        height, width = x.shape[-2:]
        check_input_size(height, width, self.patch_size)
        grid = (height // self.patch_size, width // self.patch_size)
        last = self.arch_settings['num_layers'] - 1
        intermediate = any(i != last for i in self.out_indices)
        output = self.vit(pixel_values=x, output_hidden_states=intermediate)
        prefix = 1 + self.num_register_tokens
        outs = []
        for index in self.out_indices:
            if index == last:
                tokens = output.last_hidden_state
            else:  # hidden_states[0] is the embedding output
                tokens = self.vit.norm(output.hidden_states[index + 1])
            outs.append(tokens_to_feature_map(tokens, prefix, grid))
        return tuple(outs)
