# Copyright (c) mmuss contributors. All rights reserved.
from .hungarian import (
    EXTRA_CLUSTER_POLICIES,
    confusion_matrix,
    hungarian_assignment,
    hungarian_scores,
    matched_class_histogram,
    resolve_extra_clusters,
    segmentation_scores,
)
from .label_free_scores import (
    affinity_agreement,
    affinity_pair_counts,
    cosine_kmeans_objective,
    cosine_silhouette,
    fixed_pixel_sample,
    matched_agreement,
    probe_seed_agreement,
)

__all__ = [
    'EXTRA_CLUSTER_POLICIES',
    'confusion_matrix',
    'hungarian_assignment',
    'hungarian_scores',
    'matched_class_histogram',
    'resolve_extra_clusters',
    'segmentation_scores',
    'affinity_agreement',
    'affinity_pair_counts',
    'cosine_kmeans_objective',
    'cosine_silhouette',
    'probe_seed_agreement',
    'fixed_pixel_sample',
    'matched_agreement',
]
