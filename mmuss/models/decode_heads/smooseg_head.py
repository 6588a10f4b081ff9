# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List

import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from ..losses.smooseg_smoothness_loss import prototype_pseudo_label_loss
from ..utils.code_projection import CodeProjection
from ..utils.ema_prototypes import EMAPrototypes
from .base_code_head import BaseCodeHead
from .head_inputs import HeadInputs


@MODELS.register_module()
class SmooSegHead(BaseCodeHead):
    """SmooSeg head: projection, EMA prototypes, smoothness + data energy.

    `SmooSeg <https://arxiv.org/abs/2310.17874>`_ (Lan et al., NeurIPS 2023;
    upstream ``mc-lan/SmooSeg``): a STEGO-style projection
    (:class:`CodeProjection`: linear branch plus conv-SiLU-conv branch, each
    after ``Dropout2d(0.2)``; shared with DS²DL) gives codes z;
    teacher prototypes (EMA of the student, :class:`EMAPrototypes`) give
    ``p = softmax(cos(z, teacher) / T)``, T = 0.1. The head is trained only
    by the smoothness loss (:class:`SmooSegSmoothnessLoss` on the dropped-out
    frozen features and p); the student prototypes only by the data term
    (:func:`prototype_pseudo_label_loss` on detached codes). The teacher is
    updated once per training step, before the losses are computed.

    With the segmentor's ``cluster_source='head'`` the teacher prototypes
    are the unsupervised prediction (``log_softmax(eval_alpha * cos)``), as
    in SmooSeg's evaluation.

    Args:
        in_channels (int): Feature channels.
        num_prototypes (int): Number of prototypes (clusters).
        channels (int): Code dimension. Defaults to 64.
        dropout_ratio (float): Defaults to 0.2.
        temperature (float): T. Defaults to 0.1.
        momentum (float): Teacher EMA momentum. Defaults to 0.998.
        eval_alpha (float): Inverse temperature of the prediction.
            Defaults to 2.
        loss_smooth (dict, optional): Smoothness loss config.
        **kwargs: :class:`BaseCodeHead` arguments.
    """

    def __init__(
        self,
        in_channels: int,
        num_prototypes: int,
        channels: int = 64,
        dropout_ratio: float = 0.2,
        temperature: float = 0.1,
        momentum: float = 0.998,
        eval_alpha: float = 2.0,
        loss_smooth: OptConfigType = None,
        **kwargs,
    ) -> None:
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            dropout_ratio=dropout_ratio,
            **kwargs,
        )
        self.projection = CodeProjection(in_channels, channels, dropout_ratio)
        self.prototypes = EMAPrototypes(channels, num_prototypes, momentum)
        self.temperature = temperature
        self.eval_alpha = eval_alpha
        self.loss_smooth = MODELS.build(
            loss_smooth or dict(type='SmooSegSmoothnessLoss')
        )

    @property
    def num_clusters(self) -> int:
        return self.prototypes.num_prototypes

    @property
    def linear(self) -> nn.Module:
        """The projection's linear branch."""
        return self.projection.linear

    @property
    def nonlinear(self) -> nn.Module:
        """The projection's conv-SiLU-conv branch."""
        return self.projection.nonlinear

    def _drop(self, feats: Tensor) -> Tensor:
        return self.dropout(feats) if self.dropout is not None else feats

    def forward(self, inputs: List[Tensor]) -> Tensor:
        return self.projection(self._transform_inputs(inputs))

    def cluster_logits(self, codes: Tensor) -> Tensor:
        """Prediction by the teacher prototypes, (B, K, h, w) log-probs."""
        return F.log_softmax(
            self.eval_alpha * self.prototypes.teacher_similarity(codes), dim=1
        )

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """Smoothness energy (head) plus data term (student prototypes)."""
        self.prototypes.update_teacher()
        teacher = self.prototypes.teacher_similarity(codes)
        probs = F.softmax(teacher / self.temperature, dim=1)
        signal = self._drop(self._transform_inputs(head_inputs.feats))
        losses = self.loss_smooth(signal, probs)
        losses['loss_data'] = prototype_pseudo_label_loss(
            self.prototypes.student_similarity(codes.detach()), teacher
        )
        return losses
