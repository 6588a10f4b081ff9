# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


def cosine_cluster_similarity(codes: Tensor, clusters: Tensor) -> Tensor:
    """Cosine similarity of every code vector to every cluster centre.

    STEGO's ``ClusterLookup``: both codes and centres are L2-normalised over
    channels before the inner product.

    Args:
        codes (Tensor): Codes (B, D, H, W).
        clusters (Tensor): Centres (K, D).

    Returns:
        Tensor: Similarities (B, K, H, W) in [-1, 1].
    """
    return torch.einsum(
        'bdhw,kd->bkhw',
        F.normalize(codes, dim=1),
        F.normalize(clusters, dim=1),
    )


def cluster_probe_loss(similarity: Tensor) -> Tensor:
    """Hard cosine k-means objective of the STEGO cluster probe.

    ``-mean_pixels sum_k onehot(argmax_k s)_k * s_k``: maximise the cosine
    similarity of every code to its nearest centre. Minimised by gradient
    descent on the centres, this is spherical (cosine) k-means (STEGO, Sec.
    3.3, "cluster probe"; upstream ``ClusterLookup`` with ``alpha=None``).

    Args:
        similarity (Tensor): Output of :func:`cosine_cluster_similarity`.

    Returns:
        Tensor: Scalar loss.
    """
    assignment = F.one_hot(
        similarity.argmax(dim=1), similarity.shape[1]
    ).permute(0, 3, 1, 2)
    return -(assignment.to(similarity.dtype) * similarity).sum(dim=1).mean()


@MODELS.register_module()
class ClusterProbe(BaseModule):
    """Cosine k-means cluster probe, the unsupervised prediction of STEGO.

    `STEGO <https://arxiv.org/abs/2203.08414>`_ clusters the codes of a
    segmentation head with K learnable centres trained by gradient on the
    hard cosine k-means objective (:func:`cluster_probe_loss`). It is always
    fed detached codes, so it never trains the head. At test time it returns
    ``log_softmax(alpha * cos)``, whose argmax is the cluster id; the
    temperature ``alpha`` only matters for soft outputs (CRF unaries).

    Args:
        in_channels (int): Code dimension D.
        num_clusters (int): Number of clusters K (may exceed the number of
            classes; see the Hungarian metric's ``extra_cluster_policy``).
        alpha (float): Inverse temperature of the test-time log-softmax.
            Defaults to 2.0 (STEGO evaluation).
        init_cfg (dict, optional): Initialisation config. Centres start as a
            standard normal sample, as upstream.
    """

    def __init__(
        self,
        in_channels: int,
        num_clusters: int,
        alpha: float = 2.0,
        init_cfg=None,
    ) -> None:
        super().__init__(init_cfg)
        if num_clusters < 1:
            raise ValueError(f'num_clusters must be >= 1, got {num_clusters}')
        self.in_channels = in_channels
        self.num_clusters = num_clusters
        self.alpha = alpha
        self.clusters = nn.Parameter(torch.randn(num_clusters, in_channels))

    def similarity(self, codes: Tensor) -> Tensor:
        """Cosine similarity (B, K, H, W) of codes to the centres."""
        if codes.shape[1] != self.in_channels:
            raise ValueError(
                f'ClusterProbe expects {self.in_channels}-d '
                f'codes, got shape {tuple(codes.shape)}'
            )
        return cosine_cluster_similarity(codes, self.clusters)

    def loss(self, codes: Tensor) -> Tensor:
        """Cosine k-means loss on (detached) codes (B, D, H, W)."""
        return cluster_probe_loss(self.similarity(codes))

    def forward(self, codes: Tensor) -> Tensor:
        """Log-probabilities ``log_softmax(alpha * cos)`` (B, K, H, W)."""
        return F.log_softmax(self.alpha * self.similarity(codes), dim=1)
