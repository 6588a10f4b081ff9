# Copyright (c) mmuss contributors. All rights reserved.
import math
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from ..utils.code_projection import CodeProjection
from ..utils.ema_prototypes import EMAPrototypes
from .base_code_head import BaseCodeHead
from .head_inputs import HeadInputs

LABEL_SOURCES = ('softmax', 'sinkhorn')


@torch.no_grad()
def cluster_usage(assignments: Tensor, num_clusters: int) -> Dict[str, Tensor]:
    """How the pixels of a batch spread over the clusters, for the log.

    Args:
        assignments (Tensor): Cluster index of every pixel (any shape).
        num_clusters (int): K.

    Returns:
        dict[str, Tensor]: ``usage_used``, the fraction of the K clusters
        holding at least one pixel; ``usage_entropy``, the entropy of the
        cluster histogram divided by log K (1: uniform, 0: one cluster);
        ``usage_max``, the largest cluster's share of the pixels.
    """
    counts = torch.bincount(assignments.flatten(), minlength=num_clusters)
    share = counts.float() / counts.sum().clamp(min=1)
    entropy = -(share * share.clamp(min=1e-12).log()).sum()
    return {
        'usage_used': (counts > 0).float().mean(),
        'usage_entropy': entropy / math.log(max(num_clusters, 2)),
        'usage_max': share.max(),
    }


@MODELS.register_module()
class DS2DLHead(BaseCodeHead):
    """DS²DL head: dual-structure self-distilled learning.

    DS²DL (Dual-Structure Self-Distilled Learning, anonymous ICLR-style
    submission; no public code): a linear plus two-layer SiLU projection to
    D = 64 (:class:`CodeProjection`, SmooSeg's) gives codes z, compared by
    cosine (L2-normalised). Two prototype sets start identical
    (:class:`EMAPrototypes`): the local ones are learned, the global ones
    are their EMA (alpha = 0.998), updated once per training step before
    the losses (as SmooSeg's teacher). The loss is Eq. 8,
    ``L_p + L_L2G + L_orth + L_data``:

    - affinity structure (:class:`DS2DLAffinityLoss`, Eqs. 1-3): pixel
      pairs within each image and across a derangement of the batch,
      classified by ``t = cos(z_i, z_j) + b`` against the soft label
      ``y = L_xi · L_xj`` of the label features (Eq. 2);
    - cluster structure (:class:`DS2DLClusterLoss`, Eqs. 4-7).

    The label feature L_x (Sec. 3.2) "relies solely on the predictions from
    the global clusters": by default ``softmax(cos(z, global) / tau)``
    (``label_source='softmax'``), or the Sinkhorn codes of Eq. 5
    (``'sinkhorn'``); detached either way.

    With the segmentor's ``cluster_source='head'`` the global prototypes
    are the prediction (``log_softmax(eval_alpha * cos)``, argmax
    unaffected by ``eval_alpha``), as in the SmooSeg protocol the paper
    follows. Training logs per-cluster usage of the global assignment
    (:func:`cluster_usage`): the paper has no term tying the codes to the
    frozen features' correlations, so a collapse must show in the log.

    Args:
        in_channels (int): Feature channels.
        num_prototypes (int): Number of clusters C.
        channels (int): Code dimension D. Defaults to 64.
        dropout_ratio (float): ``Dropout2d`` before each projection branch
            (not stated by the paper; SmooSeg's 0.2). Defaults to 0.2.
        temperature (float): tau of the label features. Defaults to 0.1.
        momentum (float): EMA momentum alpha. Defaults to 0.998.
        eval_alpha (float): Inverse temperature of the prediction.
            Defaults to 2.
        label_source (str): ``'softmax'`` or ``'sinkhorn'``.
        loss_affinity (dict, optional): :class:`DS2DLAffinityLoss` config.
        loss_cluster (dict, optional): :class:`DS2DLClusterLoss` config; its
            temperature defaults to ``temperature``.
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
        label_source: str = 'softmax',
        loss_affinity: OptConfigType = None,
        loss_cluster: OptConfigType = None,
        **kwargs,
    ) -> None:
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            dropout_ratio=0.0,
            **kwargs,
        )
        if label_source not in LABEL_SOURCES:
            raise ValueError(
                f'label_source must be in {LABEL_SOURCES}, got '
                f'{label_source!r}'
            )
        self.projection = CodeProjection(in_channels, channels, dropout_ratio)
        self.prototypes = EMAPrototypes(channels, num_prototypes, momentum)
        self.temperature = temperature
        self.eval_alpha = eval_alpha
        self.label_source = label_source
        self.loss_affinity = MODELS.build(
            dict(dict(type='DS2DLAffinityLoss'), **(loss_affinity or {}))
        )
        self.loss_cluster = MODELS.build(
            dict(
                dict(type='DS2DLClusterLoss', temperature=temperature),
                **(loss_cluster or {}),
            )
        )

    @property
    def num_clusters(self) -> int:
        return self.prototypes.num_prototypes

    def forward(self, inputs: List[Tensor]) -> Tensor:
        return self.projection(self._transform_inputs(inputs))

    def cluster_logits(self, codes: Tensor) -> Tensor:
        """Prediction by the global prototypes, (B, K, h, w) log-probs."""
        return F.log_softmax(
            self.eval_alpha * self.prototypes.teacher_similarity(codes), dim=1
        )

    @torch.no_grad()
    def label_features(self, codes: Tensor) -> Tensor:
        """L_x (Sec. 3.2): the global clusters' probabilities (B, C, h, w),
        without gradient."""
        if self.label_source == 'sinkhorn':
            return self.loss_cluster.global_codes(codes, self.prototypes)
        similarity = self.prototypes.teacher_similarity(codes)
        return F.softmax(similarity / self.temperature, dim=1)

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """Eq. 8: affinity-structure loss plus cluster-structure losses,
        and the usage of the global clusters."""
        self.prototypes.update_teacher()
        labels = self.label_features(codes)
        losses = self.loss_affinity(codes, labels)
        losses.update(self.loss_cluster(codes, self.prototypes))
        losses.update(cluster_usage(labels.argmax(1), self.num_clusters))
        return losses
