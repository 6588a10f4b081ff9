# Copyright (c) mmuss contributors. All rights reserved.
from .cluster_probe import (
    ClusterProbe,
    cluster_probe_loss,
    cosine_cluster_similarity,
    kmeans_plus_plus_seeds,
    spherical_kmeans,
)
from .linear_probe import LinearProbe

__all__ = [
    'ClusterProbe',
    'LinearProbe',
    'cluster_probe_loss',
    'cosine_cluster_similarity',
    'kmeans_plus_plus_seeds',
    'spherical_kmeans',
]
