# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.cue_fusion import low_level_visual_cue


@MODELS.register_module()
class LowLevelCueRefiner:
    """IL2Vseg's low-level cue applied to a prediction at test time.

    IL2Vseg (Qing et al.) fuses its cue with the head's scores,
    ``F_f = (1 - α) F_seg + α F_l`` (Eq. 13), with α = 0.5 "during the
    training phase"; the paper does not say whether the cue is used when
    predicting. This refiner is that option, for any model: the cluster
    probabilities ``p`` (B, K, H, W) of the prediction are average-pooled
    to the feature grid (``H / stride``), the image is clustered there by
    spatial fuzzy c-means started from them and spread by its colour
    affinity (:func:`low_level_visual_cue`, Eqs. 1, 3-12), and the cue,
    upsampled bilinearly, is fused as ``(1 - α) p + α F_l`` (Eq. 13 on
    probabilities, the ``fuse='prob'`` reading of
    :func:`~mmuss.models.utils.cue_fusion.fuse_cues`).

    Set it in the segmentor's ``test_cfg.refiners`` (applied after
    test-time augmentation and before the dense CRF, to the cluster
    probabilities only; the linear probe's are left as they are).

    Choice where the paper is silent: the fuzzy c-means starts from the
    prediction's probabilities (the evaluation temperature, e.g. SmooSeg's
    ``softmax(2 cos)``), where training starts it from
    ``softmax(F_seg / T)``; both make cue channel k follow cluster k.

    Args:
        alpha (float): α of Eq. 13 in [0, 1]. Defaults to 0.5.
        stride (int): Input pixels per grid cell (the backbone's output
            stride, 8 for DINO ViT-S/8). Defaults to 8.
        colour_scale (float): Divides the pixel values (0-255) into the
            units of ``sigma``. Defaults to 255.
        **cue_cfg: Keyword arguments of :func:`low_level_visual_cue`
            (``sigma``, ``m``, ``num_iters``, ``exponent``, ``spatial``,
            ``normalise``, ``chunk_size``).
    """

    def __init__(
        self,
        alpha: float = 0.5,
        stride: int = 8,
        colour_scale: float = 255.0,
        **cue_cfg,
    ) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must lie in [0, 1], got {alpha}')
        if stride < 1:
            raise ValueError(f'stride must be a positive integer: {stride}')
        self.alpha = alpha
        self.stride = int(stride)
        self.colour_scale = colour_scale
        self.cue_cfg = cue_cfg

    def grid(self, height: int, width: int) -> tuple:
        """The feature grid (h, w) of an (H, W) prediction."""
        return max(1, height // self.stride), max(1, width // self.stride)

    @torch.no_grad()
    def __call__(self, probs: Tensor, pixels: Tensor) -> Tensor:
        """Refined probabilities (B, K, H, W).

        Args:
            probs (Tensor): Cluster probabilities (B, K, H, W).
            pixels (Tensor): The images' pixel values (B, 3, H, W).
        """
        if probs.shape[0] != pixels.shape[0] or (
            probs.shape[2:] != pixels.shape[2:]
        ):
            raise ValueError(
                f'probabilities {tuple(probs.shape)} and images '
                f'{tuple(pixels.shape)} must share batch and size'
            )
        if self.alpha == 0.0:
            return probs
        grid = self.grid(*probs.shape[2:])
        memberships = F.adaptive_avg_pool2d(probs.float(), grid)
        cue = low_level_visual_cue(
            pixels.float() / self.colour_scale, memberships, **self.cue_cfg
        )
        cue = F.interpolate(
            cue, size=probs.shape[2:], mode='bilinear', align_corners=False
        )
        return (1.0 - self.alpha) * probs + self.alpha * cue.to(probs.dtype)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(alpha={self.alpha}, '
            f'stride={self.stride}, cue_cfg={self.cue_cfg})'
        )
