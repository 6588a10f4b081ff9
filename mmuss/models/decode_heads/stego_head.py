# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Optional

import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from .base_code_head import BaseCodeHead
from .head_inputs import HeadInputs


@MODELS.register_module()
class StegoHead(BaseCodeHead):
    """STEGO segmentation head trained by correspondence distillation.

    `STEGO <https://arxiv.org/abs/2203.08414>`_ (Sec. 3.3 and the upstream
    ``DinoFeaturizer``): a linear branch (1x1 convolution to the code
    dimension) plus a nonlinear branch (1x1 conv, ReLU, 1x1 conv), each fed
    the frozen features through its own ``Dropout2d`` (p = 0.1);
    ``projection='linear'`` keeps the linear branch only. There is no
    normalisation in the head: the loss and the probes L2-normalise.

    The loss (``loss_corr``, :class:`StegoCorrespondenceLoss` by default)
    compares the codes with the frozen features; as upstream, the features
    it sees go through the same dropout as the head input
    (``feature_dropout=True``). KNN positives come from the ``knn_img``
    field that :class:`KNNPairDataset` attaches to every training sample.

    Args:
        in_channels (int): Feature channels.
        channels (int): Code dimension. Defaults to 70.
        projection (str): ``'nonlinear'`` or ``'linear'``.
        dropout_ratio (float): Dropout2d probability. Defaults to 0.1.
        feature_dropout (bool): Apply dropout to the features the loss
            correlates. Defaults to True.
        loss_corr (dict, optional): Loss config; defaults to
            :class:`StegoCorrespondenceLoss` with its defaults.
        knn_view (str, optional): Data-sample field of the KNN positives;
            None trains without the KNN term (``weight_knn`` must be 0).
        cross_view (str, optional): A pixel-aligned view of the image (a
            view generator of the segmentor, e.g. MSSSeg's
            :class:`StructAug`, or a data-sample field) paired with the
            image in a second correspondence loss: the view takes the KNN
            slot, so its codes are distilled from the clean image's feature
            correlations (and a learned view trains through the backbone
            against it). Not in STEGO; None (default) leaves it out.
        loss_cross_view (dict, optional): :class:`StegoCorrespondenceLoss`
            config of that term, logged as ``loss_view_corr`` and
            ``view_corr_*``; defaults to the loss's defaults.
        **kwargs: :class:`BaseCodeHead` arguments.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int = 70,
        projection: str = 'nonlinear',
        dropout_ratio: float = 0.1,
        feature_dropout: bool = True,
        loss_corr: OptConfigType = None,
        knn_view: Optional[str] = 'knn_img',
        cross_view: Optional[str] = None,
        loss_cross_view: OptConfigType = None,
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
        self.projection = projection
        self.feature_dropout = feature_dropout
        self.linear = nn.Conv2d(in_channels, channels, kernel_size=1)
        self.nonlinear = (
            nn.Sequential(
                nn.Conv2d(in_channels, in_channels, kernel_size=1),
                nn.ReLU(),
                nn.Conv2d(in_channels, channels, kernel_size=1),
            )
            if projection == 'nonlinear'
            else None
        )
        self.loss_corr = MODELS.build(
            loss_corr or dict(type='StegoCorrespondenceLoss')
        )
        self.knn_view = knn_view
        self.cross_view = cross_view
        self.loss_cross_view = (
            MODELS.build(
                dict(
                    dict(
                        type='StegoCorrespondenceLoss',
                        loss_name='loss_view_corr',
                    ),
                    **(loss_cross_view or {}),
                )
            )
            if cross_view
            else None
        )
        self.required_views = tuple(v for v in (knn_view, cross_view) if v)

    def _drop(self, feats: Tensor) -> Tensor:
        return self.dropout(feats) if self.dropout is not None else feats

    def project(self, feats: Tensor) -> Tensor:
        """Codes of a feature map (B, C, h, w) -> (B, D, h, w)."""
        codes = self.linear(self._drop(feats))
        if self.nonlinear is not None:
            codes = codes + self.nonlinear(self._drop(feats))
        return codes

    def forward(self, inputs: List[Tensor]) -> Tensor:
        return self.project(self._transform_inputs(inputs))

    def loss_signal(self, inputs: List[Tensor]) -> Tensor:
        """The features the loss correlates (after dropout, as upstream)."""
        feats = self._transform_inputs(inputs)
        return self._drop(feats) if self.feature_dropout else feats

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """STEGO correspondence loss of the batch and its KNN positives
        (and, with ``cross_view``, of the batch and its view)."""
        knn_feats = knn_codes = None
        if self.knn_view:
            knn_inputs = head_inputs.view(self.knn_view)
            knn_feats = self.loss_signal(knn_inputs)
            knn_codes = self.forward(knn_inputs)
        signal = self.loss_signal(head_inputs.feats)
        losses = self.loss_corr(signal, codes, knn_feats, knn_codes)
        if self.cross_view:
            losses.update(self.cross_view_loss(signal, codes, head_inputs))
        return losses

    def cross_view_loss(
        self, signal: Tensor, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """The correspondence loss with ``cross_view`` in the KNN slot."""
        view = head_inputs.view(self.cross_view)
        terms = self.loss_cross_view(
            signal, codes, self.loss_signal(view), self.forward(view)
        )
        return {
            key if key.startswith('loss') else f'view_{key}': value
            for key, value in terms.items()
        }
