# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from mmuss.models.data_preprocessors import IMAGE_INPUT
from mmuss.models.necks import (
    CrossModalHarmonization,
    ModalityFusion,
    ModalitySpecificNetwork,
)

from .base_code_head import BaseCodeHead
from .head_inputs import HeadInputs


@MODELS.register_module()
class UniM2Head(BaseCodeHead):
    """UniM2 head: multi-modal STEGO with modality networks, fusion, CMH
    and the cross-modal correspondence synergy (CMCS) loss.

    UniM2 (Zhang et al., "Towards Unsupervised Multi-modal Semantic
    Segmentation", ECCV 2026; supplement and the official code
    Hatins/UniM2). The frozen backbone runs once per modality (the image,
    then ``modalities``, each a :class:`LoadModality` image declared in the
    data preprocessor). Then:

    1. a :class:`ModalitySpecificNetwork` per modality (MSN, supplement
       Sec. 7.1) on its raw features;
    2. :class:`ModalityFusion` of the MSN outputs, each L2-normalised over
       channels first (``'concat_conv'``: Cat+Conv, the released NYU and
       MFNet configs; ``'progressive_conv'``: MCubeS; ``'sum'``, ``'mean'``,
       ``'max'``: supplement Table 2's Sum rows and ablations);
    3. STEGO's projection of the fused map to the code S (a 1x1 linear
       branch plus conv-ReLU-conv, each after its own ``Dropout2d``);
    4. CMH (supplement Eq. 7, :class:`CrossModalHarmonization`): S_X =
       Phi(S) for the auxiliary modalities;
    5. the loss: :class:`CMCSLoss` (Eq. 9 per modality, Eq. 7 total), each
       modality's *raw* frozen features against S (the image) or S_X (the
       others; S for all with ``use_cmh=False``), with self / KNN / random
       pairs; the KNN positive is one image for all modalities (its
       modality features come packed with it). A modality left out of
       ``loss_cmcs.modalities`` gets no correspondence loss: with only
       ``image`` listed and ``use_cmh=False`` this is the supplement's
       "no alignment" multi-modal STEGO.

    ``loss_align`` adds a distillation baseline of supplement Sec. 2
    (:class:`ModalityAlignmentLoss`: CORAL, MMD or cosine, Eq. 2-4) between
    the frozen image features (f_rgb) and each auxiliary modality's MSN
    output (Proj(f_X), [choice]: the supplement does not say what Proj is).

    With no auxiliary modality the head is STEGO's (no MSN, no fusion), as
    upstream with one modality.

    Args:
        in_channels (int): Backbone channels C.
        channels (int): Code dimension D. Defaults to 70.
        modalities (Sequence[str]): Auxiliary modality names, in the order
            fused after the image. Defaults to ``('hha',)``.
        fusion (dict, optional): :class:`ModalityFusion` arguments besides
            ``in_channels`` and ``num_modalities``; defaults to
            ``dict(mode='concat_conv', normalize=True)``.
        msn_residual (bool): Residual MSNs. Defaults to False (upstream).
        projection (str): ``'nonlinear'`` or ``'linear'``.
        dropout_ratio (float): Dropout2d before each projection branch.
            Defaults to 0.1.
        use_cmh (bool): Pair auxiliary modalities with S_X. Defaults to
            True.
        loss_cmcs (dict, optional): :class:`CMCSLoss` config; defaults to
            every modality with the loss's defaults.
        loss_align (dict, optional): :class:`ModalityAlignmentLoss`
            config; None (default) leaves it out.
        knn_view (str, optional): Data-sample field of the KNN positives;
            None trains without KNN terms.
        **kwargs: :class:`BaseCodeHead` arguments.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int = 70,
        modalities: Sequence[str] = ('hha',),
        fusion: OptConfigType = None,
        msn_residual: bool = False,
        projection: str = 'nonlinear',
        dropout_ratio: float = 0.1,
        use_cmh: bool = True,
        loss_cmcs: OptConfigType = None,
        loss_align: OptConfigType = None,
        knn_view: Optional[str] = 'knn_img',
        **kwargs,
    ) -> None:
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            dropout_ratio=dropout_ratio,
            **kwargs,
        )
        if projection not in ('linear', 'nonlinear'):
            raise ValueError(
                f'projection must be "linear" or "nonlinear", '
                f'got {projection!r}'
            )
        if IMAGE_INPUT in modalities or len(set(modalities)) != len(
            modalities
        ):
            raise ValueError(
                f'modalities must be distinct auxiliary names (the image is '
                f'{IMAGE_INPUT!r} and always first), got {list(modalities)}'
            )
        self.required_modalities = tuple(modalities)
        self.modality_names = (IMAGE_INPUT, *modalities)
        self.msn = self.fusion = None
        fused_channels = in_channels
        if modalities:
            self.msn = nn.ModuleDict(
                {
                    name: ModalitySpecificNetwork(in_channels, msn_residual)
                    for name in self.modality_names
                }
            )
            self.fusion = ModalityFusion(
                in_channels=in_channels,
                num_modalities=len(self.modality_names),
                **(fusion or dict(mode='concat_conv', normalize=True)),
            )
            fused_channels = self.fusion.out_channels
        self.linear = nn.Conv2d(fused_channels, channels, kernel_size=1)
        self.nonlinear = (
            nn.Sequential(
                nn.Conv2d(fused_channels, fused_channels, kernel_size=1),
                nn.ReLU(),
                nn.Conv2d(fused_channels, channels, kernel_size=1),
            )
            if projection == 'nonlinear'
            else None
        )
        self.loss_cmcs = MODELS.build(
            loss_cmcs
            or dict(
                type='CMCSLoss',
                modalities={name: {} for name in self.modality_names},
            )
        )
        unknown = sorted(
            set(self.loss_cmcs.modalities) - set(self.modality_names)
        )
        if unknown:
            raise ValueError(
                f'loss_cmcs.modalities names {unknown}, which are not among '
                f"the head's modalities {list(self.modality_names)}"
            )
        self.cmh_modalities = tuple(
            name for name in self.loss_cmcs.modalities if name != IMAGE_INPUT
        )
        if use_cmh and not self.cmh_modalities:
            raise ValueError(
                'use_cmh=True but loss_cmcs has no auxiliary modality to '
                'pair with S_X; set use_cmh=False'
            )
        self.cmh = CrossModalHarmonization(channels) if use_cmh else None
        self.loss_align = MODELS.build(loss_align) if loss_align else None
        if self.loss_align is not None and not modalities:
            raise ValueError('loss_align needs an auxiliary modality')
        self.knn_view = knn_view
        if self.loss_cmcs.needs_knn() and not knn_view:
            raise ValueError(
                'loss_cmcs has KNN terms (weight_knn > 0) but knn_view is None'
            )
        self.required_views = (knn_view,) if knn_view else ()

    def raw_features(self, head_inputs: HeadInputs) -> Dict[str, Tensor]:
        """Each modality's frozen features (B, C, h, w), the image first."""
        raw = {IMAGE_INPUT: self._transform_inputs(head_inputs.feats)}
        for name in self.required_modalities:
            raw[name] = self._transform_inputs(head_inputs.modality(name))
        return raw

    def knn_raw_features(self, head_inputs: HeadInputs) -> Dict[str, Tensor]:
        """The same of the KNN positives (one image for all modalities)."""
        raw = {
            IMAGE_INPUT: self._transform_inputs(
                head_inputs.view(self.knn_view)
            )
        }
        for name in self.required_modalities:
            raw[name] = self._transform_inputs(
                head_inputs.view_modality(self.knn_view, name)
            )
        return raw

    def fuse(self, raw: Dict[str, Tensor]) -> Tensor:
        """MSN per modality, then fusion (the raw image alone without
        auxiliary modalities)."""
        if self.fusion is None:
            return raw[IMAGE_INPUT]
        return self.fusion(
            [self.msn[name](raw[name]) for name in self.modality_names]
        )

    def _drop(self, feats: Tensor) -> Tensor:
        return self.dropout(feats) if self.dropout is not None else feats

    def project(self, fused: Tensor) -> Tensor:
        """STEGO's projection of the fused map to the code S."""
        codes = self.linear(self._drop(fused))
        if self.nonlinear is not None:
            codes = codes + self.nonlinear(self._drop(fused))
        return codes

    def codes_of(self, raw: Dict[str, Tensor]) -> Tensor:
        """The code S of every modality's raw features."""
        return self.project(self.fuse(raw))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Codes of the image alone (no auxiliary modality declared)."""
        if self.required_modalities:
            raise RuntimeError(
                f'UniM2Head with modalities {self.required_modalities} '
                'codes full inputs only (compute_codes, inside '
                'UnsupervisedEncoderDecoder)'
            )
        return self.codes_of({IMAGE_INPUT: self._transform_inputs(inputs)})

    def compute_codes(self, head_inputs: HeadInputs) -> Tensor:
        return self.codes_of(self.raw_features(head_inputs))

    def paired_codes(self, codes: Tensor) -> Dict[str, Tensor]:
        """The code each CMCS modality is paired with: S for the image,
        S_X = Phi(S) for the others (S without CMH)."""
        proxy = self.cmh(codes) if self.cmh is not None else codes
        return {
            name: codes if name == IMAGE_INPUT else proxy
            for name in self.loss_cmcs.modalities
        }

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """CMCS (and the optional alignment baseline) of the batch."""
        raw = self.raw_features(head_inputs)
        knn_raw = knn_codes = None
        if self.knn_view and self.loss_cmcs.needs_knn():
            knn_raw = self.knn_raw_features(head_inputs)
            knn_codes = self.paired_codes(self.codes_of(knn_raw))
        losses = self.loss_cmcs(
            raw, self.paired_codes(codes), knn_raw, knn_codes
        )
        if self.loss_align is not None:
            projected = {
                name: self.msn[name](raw[name])
                for name in self.required_modalities
            }
            losses.update(self.loss_align(raw[IMAGE_INPUT], projected))
        return losses
