# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from ..utils.cue_fusion import fuse_cues, low_level_visual_cue
from ..utils.fuzzy_cmeans import downsample_image
from .ds2dl_head import cluster_usage
from .head_inputs import HeadInputs
from .smooseg_head import SmooSegHead


@MODELS.register_module()
class IL2VsegHead(SmooSegHead):
    """IL2Vseg head: SmooSeg plus a fused low-level colour cue.

    IL2Vseg (Qing et al.; no public code). SmooSeg's projection
    and local/global (student/teacher EMA) centres give
    ``F_seg = cos(F^c, global centres)`` (Eq. 2); the low-level cue
    ``F_l = f_γ(bilinear(I))`` (Eq. 1: spatial fuzzy c-means, Eqs. 3-8, and
    colour affinity, Eqs. 9-12, :func:`low_level_visual_cue`) is fused as
    ``F_f = (1 - α) F_seg + α F_l`` (Eq. 13, :func:`fuse_cues`), and the
    loss is Eq. 15: SmooSeg's energy ``L_smo`` (smoothness on
    ``softmax(F_seg / T)`` plus the centres' data term, as in
    :class:`SmooSegHead`), γ·L_fs and β·L_reg of Eq. 14
    (:class:`IL2VsegFeatureSimilarityLoss`, on ``F_f``) and, with
    ``corr_view`` set, ``L_corr``: STEGO's correspondence loss
    (:class:`StegoCorrespondenceLoss`) between the image and its
    colour/luminosity-invariant view (a view generator of the segmentor,
    e.g. :class:`InvariantColourView`), which takes STEGO's KNN slot (the
    self and random terms as usual).

    Choices where the paper is silent:

    * The cue's fuzzy c-means starts from the head's own
      ``softmax(F_seg / T)`` (detached), so cue channel k refines head
      cluster k; the cue is computed without gradients.
    * Colours: the head receives the image in pixel values
      (``required_inputs = ('pixels',)``: the segmentor undoes the data
      preprocessor's normalisation); ``colour_scale`` (255) brings them to
      [0, 1], the units of σ = 0.1.
    * At test time the prediction is ``F_seg`` of the global centres alone
      by default: the paper gives α = 0.5 "during the training phase"
      only. The cue at test time is the segmentor's
      ``test_cfg.refiners=[dict(type='LowLevelCueRefiner', alpha=...)]``
      (:class:`~mmuss.models.refiners.LowLevelCueRefiner`).

    Training logs per-cluster usage of the global assignment
    (:func:`cluster_usage`).

    Args:
        in_channels (int): Feature channels.
        num_prototypes (int): Number of clusters K.
        alpha (float): Training α of Eq. 13. Defaults to 0.5.
        colour_scale (float): Divides the pixel values. Defaults to 255.
        cue_cfg (dict, optional): Keyword arguments of
            :func:`low_level_visual_cue` (``sigma``, ``m``, ``num_iters``,
            ``exponent``, ``spatial``, ``normalise``, ``chunk_size``).
        fuse (str): ``'prob'`` or ``'raw'`` (:func:`fuse_cues`).
            Defaults to ``'prob'``.
        align (str): ``'none'`` or ``'hungarian'`` (:func:`fuse_cues`).
            Defaults to ``'none'``.
        loss_fs (dict, optional): :class:`IL2VsegFeatureSimilarityLoss`
            config (``fs_mode``, weights γ = 0.1 and β = 0.05); its
            ``temperature`` defaults to None with ``fuse='prob'`` and to the
            head's T with ``fuse='raw'``.
        corr_view (str, optional): Name of the segmentor's view generator
            giving ``Ĩ``; None leaves ``L_corr`` out. Defaults to None.
        loss_corr (dict, optional): :class:`StegoCorrespondenceLoss` config
            of ``L_corr`` (weight 1 in Eq. 15).
        **kwargs: :class:`SmooSegHead` arguments (``channels``,
            ``temperature``, ``momentum``, ``loss_smooth``, ...).
    """

    required_inputs = ('pixels',)

    def __init__(
        self,
        in_channels: int,
        num_prototypes: int,
        alpha: float = 0.5,
        colour_scale: float = 255.0,
        cue_cfg: OptConfigType = None,
        fuse: str = 'prob',
        align: str = 'none',
        loss_fs: OptConfigType = None,
        corr_view: Optional[str] = None,
        loss_corr: OptConfigType = None,
        **kwargs,
    ) -> None:
        super().__init__(in_channels, num_prototypes, **kwargs)
        self.alpha = alpha
        self.colour_scale = colour_scale
        self.cue_cfg = dict(cue_cfg or {})
        self.fuse = fuse
        self.align = align
        # F_f of fuse='prob' is a distribution; raw scores need a T
        fs_default = dict(
            type='IL2VsegFeatureSimilarityLoss',
            temperature=None if fuse == 'prob' else self.temperature,
        )
        self.loss_fs = MODELS.build(dict(fs_default, **(loss_fs or {})))
        self.corr_view = corr_view
        self.required_views = (corr_view,) if corr_view else ()
        self.loss_corr = (
            MODELS.build(
                dict(dict(type='StegoCorrespondenceLoss'), **(loss_corr or {}))
            )
            if corr_view
            else None
        )

    @property
    def uses_cue(self) -> bool:
        """Whether Eq. 14's terms are on (Table 4's ``+L_fs``): with both
        weights 0 the fused cue is not computed at all."""
        return bool(
            self.loss_fs.loss_weight_fs or self.loss_fs.loss_weight_reg
        )

    def pixel_colours(self, pixels: Tensor) -> Tensor:
        """Pixel values (B, 3, H, W) as colours in [0, 1]."""
        return pixels.float() / self.colour_scale

    def fused_cue(self, seg: Tensor, colours: Tensor) -> Tensor:
        """``F_f`` (Eq. 13) of the head scores ``F_seg`` (B, K, h, w) and
        the low-level cue of ``colours`` (B, 3, H, W), started from the
        head's ``softmax(F_seg / T)``."""
        probs = torch.softmax(seg.detach() / self.temperature, dim=1)
        if self.alpha == 0.0:  # F_f is the head alone: skip the cue
            cue = torch.zeros_like(probs)
        else:
            cue = low_level_visual_cue(colours, probs, **self.cue_cfg)
        return fuse_cues(
            seg, cue, self.alpha, self.fuse, self.align, self.temperature
        )

    def correspondence_loss(
        self, codes: Tensor, feats: List[Tensor], view: List[Tensor]
    ) -> Dict[str, Tensor]:
        """``L_corr``: STEGO's loss with the invariant view ``Ĩ`` in the
        KNN slot (features after the head's dropout, as SmooSeg's signal)."""
        view_feats = self._drop(self._transform_inputs(view))
        return self.loss_corr(
            self._drop(self._transform_inputs(feats)),
            codes,
            view_feats,
            self.forward(view),
        )

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """Eq. 15: SmooSeg's smoothness and data terms, γ·L_fs and β·L_reg
        on the fused cue, ``L_corr`` with ``corr_view``; and cluster
        usage."""
        losses = super().loss_by_codes(codes, head_inputs)
        seg = self.prototypes.teacher_similarity(codes)
        if self.uses_cue:
            colours = self.pixel_colours(head_inputs.dense('pixels'))
            fused = self.fused_cue(seg, colours)
            small = downsample_image(colours, tuple(codes.shape[2:]))
            losses.update(self.loss_fs(fused, codes, small))
        if self.corr_view:
            losses.update(
                self.correspondence_loss(
                    codes, head_inputs.feats, head_inputs.view(self.corr_view)
                )
            )
        losses.update(cluster_usage(seg.argmax(1), self.num_clusters))
        return losses
