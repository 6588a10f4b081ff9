# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from ..losses.mssseg_pixel_loss import masked_cross_entropy
from .base_code_head import BaseCodeHead
from .ds2dl_head import cluster_usage
from .head_inputs import HeadInputs

SEMANTIC_SOURCES = ('pseudo', 'seg_soft')
FUSIONS = ('mean', 'seg', 'dca')


def fuse_predictions(
    seg_probs: Tensor, dca_probs: Tensor, fusion: str = 'mean'
) -> Tensor:
    """The two predictions fused "before clustering" (MSSSeg §3.1): the
    mean of the Seg Head's and the DCA decoder's class probabilities
    (``'mean'``, our reading; the paper gives no formula), or either alone
    (``'seg'``, ``'dca'``), for ablations.

    Args:
        seg_probs (Tensor): Ŷ_seg probabilities (B, K, h, w).
        dca_probs (Tensor): Ŷ_dca probabilities (B, K, h, w).
        fusion (str): One of ``FUSIONS``.
    """
    if fusion not in FUSIONS:
        raise ValueError(f'fusion must be one of {FUSIONS}, got {fusion!r}')
    if fusion == 'seg':
        return seg_probs
    if fusion == 'dca':
        return dca_probs
    return (seg_probs + dca_probs) / 2


@MODELS.register_module()
class MSSSegHead(BaseCodeHead):
    """MSSSeg head: Pseudo Head, Seg Head on the StructAug view, DBC and
    the DCA decoder, trained by Eq. 11 (Li et al., arXiv 2512.23997; no
    public code).

    Training (§3.1, Eq. 2; the displayed equations are lost from the text,
    the prose describes them):

    * **Pseudo Head** (never defined in the paper; our reading of its
      "STEGO as the Baseline" study): a STEGO head on the clean image's
      frozen features, trained by STEGO's correspondence loss (KNN pairs,
      ``pseudo_head``), and a cosine k-means on its detached codes
      (``pseudo_probe``, a :class:`ClusterProbe` trained by its own loss)
      whose argmax is the pseudo-label Ŷ and whose centres are the class
      prototypes.
    * **Seg Head**: the same architecture on the StructAug view (a view
      generator of the segmentor, ``aug_view``; the Seg Head "observes only
      the corrupted view"), plus a 1x1 classifier to K classes: embeddings
      z and the softmax probability map Ŷ_seg.
    * **Losses** (Eq. 11, a weight per term, all 1 by default):
      ``L_pixel = L_cont + L_distill`` (:class:`MSSSegPixelLoss`), L_PH on
      Ŷ_seg against Ŷ (:class:`PHLoss`), L_align between the DBC vectors
      of Ŷ and the depth (:class:`DifferentiableBoxCounting`,
      :class:`DBCAlignmentLoss`), ``L_dca = CE(Ŷ_dca, Ŷ)`` for the DCA
      decoder (:class:`DCADecoder`) on the clean features and
      ``v = [v_S; v_D]`` (the "fourth auxiliary objective"), plus the
      Pseudo Head's STEGO loss and k-means loss.

    Inference (§3.1): the Seg Head on the image, its softmax averaged over
    ``num_tta_views`` random StructAug views and the clean image (the
    head's ``test_views``); Ŷ_seg and the depth through DBC and the DCA
    decoder; the two predictions fused (:func:`fuse_predictions`) as the
    cluster probabilities (``cluster_source='head'``); the dense CRF is the
    segmentor's ``test_cfg.use_crf``.

    Choices where the paper is silent (documented in the README): the
    Pseudo Head above; the Seg Head's "softmax probability map" is a 1x1
    classifier on its embeddings (so L_cont acts on the embeddings and
    L_distill on the classifier, two different terms); DBC on the pseudo
    labels in training (``semantic_source='pseudo'``, as printed;
    ``'seg_soft'`` feeds Ŷ_seg so that L_align reaches the Seg Head) and
    on Ŷ_seg at test time; labels and Ŷ_seg are resized to the depth
    map's (input) resolution for box counting.

    Args:
        in_channels (int): Frozen feature channels.
        num_prototypes (int): K pseudo-classes (clusters, prototypes).
        channels (int): Embedding dimension D of both heads.
        pseudo_head (dict, optional): Config of the Pseudo Head (a
            :class:`StegoHead` by default; ``in_channels`` and ``channels``
            are filled in); the Seg Head is built from it without KNN
            view.
        pseudo_probe (dict, optional): :class:`ClusterProbe` arguments of
            the pseudo-label k-means.
        aug_view (str, optional): View generator giving the Seg Head's
            corrupted view (e.g. ``'structaug'``); None trains the Seg
            Head on the clean image (Table 2's "w/o StructAug").
        num_tta_views (int): Random views averaged with the clean image at
            test time. Defaults to 4.
        depth_name (str): The dense input holding the depth map.
        semantic_source (str): ``'pseudo'`` or ``'seg_soft'``.
        fusion (str): One of ``FUSIONS``. Defaults to ``'mean'``.
        dbc (dict, optional): :class:`DifferentiableBoxCounting` arguments.
        dca (dict, optional): :class:`DCADecoder` arguments.
        loss_pixel (dict, optional): :class:`MSSSegPixelLoss` config.
        loss_ph (dict, optional): :class:`PHLoss` config; a
            ``loss_weight`` of 0 skips it.
        loss_align (dict, optional): :class:`DBCAlignmentLoss` config.
        loss_dca_weight (float): λ of L_dca. Defaults to 1.
        loss_pseudo_weight (float): Scale of the Pseudo Head's STEGO loss.
            Defaults to 1.
        **kwargs: :class:`BaseCodeHead` arguments.
    """

    required_inputs = ('depth',)
    predicts_from_inputs = True

    def __init__(
        self,
        in_channels: int,
        num_prototypes: int,
        channels: int = 70,
        pseudo_head: OptConfigType = None,
        pseudo_probe: OptConfigType = None,
        aug_view: Optional[str] = 'structaug',
        num_tta_views: int = 4,
        depth_name: str = 'depth',
        semantic_source: str = 'pseudo',
        fusion: str = 'mean',
        dbc: OptConfigType = None,
        dca: OptConfigType = None,
        loss_pixel: OptConfigType = None,
        loss_ph: OptConfigType = None,
        loss_align: OptConfigType = None,
        loss_dca_weight: float = 1.0,
        loss_pseudo_weight: float = 1.0,
        **kwargs,
    ) -> None:
        super().__init__(in_channels=in_channels, channels=channels, **kwargs)
        if semantic_source not in SEMANTIC_SOURCES:
            raise ValueError(
                f'semantic_source must be one of {SEMANTIC_SOURCES}, got '
                f'{semantic_source!r}'
            )
        fuse_predictions(torch.zeros(1), torch.zeros(1), fusion)  # checks
        if num_tta_views < 0:
            raise ValueError(f'num_tta_views must be >= 0: {num_tta_views}')
        self._num_classes = num_prototypes
        self.depth_name = depth_name
        self.required_inputs = (depth_name,)
        self.semantic_source = semantic_source
        self.fusion = fusion
        self.aug_view = aug_view
        self.loss_dca_weight = loss_dca_weight
        self.loss_pseudo_weight = loss_pseudo_weight
        head_cfg = dict(
            dict(type='StegoHead') | dict(pseudo_head or {}),
            in_channels=in_channels,
            channels=channels,
        )
        self.pseudo_head = MODELS.build(head_cfg)
        self.seg_head = MODELS.build(dict(head_cfg, knn_view=None))
        self.classifier = nn.Conv2d(channels, num_prototypes, kernel_size=1)
        self.pseudo_probe = MODELS.build(
            dict(
                type='ClusterProbe',
                in_channels=channels,
                num_clusters=num_prototypes,
                **(pseudo_probe or {}),
            )
        )
        self.dbc = MODELS.build(
            dict(type='DifferentiableBoxCounting', num_classes=num_prototypes)
            | dict(dbc or {})
        )
        self.dca = MODELS.build(
            dict(
                type='DCADecoder',
                in_channels=in_channels,
                num_classes=num_prototypes,
                vector_channels=2 * self.dbc.out_channels,
            )
            | dict(dca or {})
        )
        self.loss_pixel = MODELS.build(
            dict(type='MSSSegPixelLoss') | dict(loss_pixel or {})
        )
        self.loss_ph = MODELS.build(dict(type='PHLoss') | dict(loss_ph or {}))
        self.loss_align = MODELS.build(
            dict(type='DBCAlignmentLoss') | dict(loss_align or {})
        )
        self.required_views = tuple(self.pseudo_head.required_views) + (
            (aug_view,) if aug_view else ()
        )
        self.test_views = (aug_view,) * num_tta_views if aug_view else ()

    @property
    def num_clusters(self) -> int:
        return self._num_classes

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Seg Head embeddings (B, D, h, w) of backbone outputs."""
        return self.seg_head(inputs)

    def cluster_logits(self, codes: Tensor) -> Tensor:
        """The Seg Head's prediction alone, log-probabilities (B, K, h, w)
        (no depth, no decoder)."""
        return F.log_softmax(self.classifier(codes), dim=1)

    def pseudo_labels(self, pseudo_codes: Tensor) -> Tensor:
        """Ŷ (B, h, w): the Pseudo Head's k-means assignment."""
        with torch.no_grad():
            return self.pseudo_probe.similarity(pseudo_codes).argmax(dim=1)

    def structure_vectors(self, semantic: Tensor, depth: Tensor):
        """DBC vectors of a segmentation (labels (B, h, w) or
        probabilities (B, K, h, w)) and the depth (B, 1, H, W), box counting
        at the depth's resolution."""
        size = tuple(depth.shape[-2:])
        if semantic.dim() == 3:
            semantic = F.interpolate(
                semantic[:, None].float(), size=size, mode='nearest'
            )[:, 0].long()
        else:
            semantic = F.interpolate(
                semantic, size=size, mode='bilinear', align_corners=False
            )
        return self.dbc(semantic, depth)

    def decoder_logits(
        self, feats: List[Tensor], semantic: Tensor, depth: Tensor
    ):
        """Ŷ_dca logits (B, K, h, w) and the DBC vectors."""
        vectors = self.structure_vectors(semantic, depth)
        clean = self._transform_inputs(feats)
        return self.dca(clean, vectors.joint), vectors

    def cluster_logits_from_inputs(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Tensor:
        """Inference (§3.1): Ŷ_seg averaged over the clean image and the
        StructAug test views, Ŷ_dca from DBC(Ŷ_seg, D) and the clean
        features, fused; log-probabilities (B, K, h, w)."""
        seg_probs = [F.softmax(self.classifier(codes), dim=1)]
        for view in head_inputs.test_views:
            seg_probs.append(F.softmax(self.classifier(self.forward(view)), 1))
        seg = torch.stack(seg_probs).mean(0)
        if self.fusion == 'seg':
            return seg.clamp_min(1e-8).log()
        depth = head_inputs.dense(self.depth_name)
        dca_logits, _ = self.decoder_logits(head_inputs.feats, seg, depth)
        fused = fuse_predictions(seg, F.softmax(dca_logits, 1), self.fusion)
        return fused.clamp_min(1e-8).log()

    def pseudo_losses(
        self, head_inputs: HeadInputs
    ) -> tuple[Dict[str, Tensor], Tensor]:
        """The Pseudo Head's STEGO and k-means losses, and Ŷ."""
        pseudo_codes = self.pseudo_head(head_inputs.feats)
        stego = self.pseudo_head.loss_by_codes(pseudo_codes, head_inputs)
        losses = {
            f'pseudo_{key}': (
                self.loss_pseudo_weight * value if 'loss' in key else value
            )
            for key, value in stego.items()
        }
        detached = pseudo_codes.detach()
        losses['pseudo_loss_kmeans'] = self.pseudo_probe.loss(detached)
        return losses, self.pseudo_labels(detached)

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """Eq. 11: L_pixel + L_PH + L_align + L_dca, with the Pseudo Head's
        losses; and the usage of the pseudo-labels."""
        losses, labels = self.pseudo_losses(head_inputs)
        prototypes = self.pseudo_probe.clusters.detach()
        view = (
            head_inputs.view(self.aug_view)
            if self.aug_view
            else head_inputs.feats
        )
        embeddings = self.forward(view)
        seg_logits = self.classifier(embeddings)
        losses.update(
            self.loss_pixel(embeddings, seg_logits, prototypes, labels)
        )
        seg_probs = F.softmax(seg_logits, dim=1)
        if self.loss_ph.loss_weight:
            losses[self.loss_ph.loss_name] = self.loss_ph(seg_probs, labels)
        semantic = labels if self.semantic_source == 'pseudo' else seg_probs
        depth = head_inputs.dense(self.depth_name)
        dca_logits, vectors = self.decoder_logits(
            head_inputs.feats, semantic, depth
        )
        losses.update(self.loss_align(vectors.semantic, vectors.depth))
        losses['loss_dca'] = self.loss_dca_weight * masked_cross_entropy(
            dca_logits, labels
        )
        losses.update(cluster_usage(labels, self.num_clusters))
        return losses
