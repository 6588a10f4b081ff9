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

__all__ = [
    'EXTRA_CLUSTER_POLICIES',
    'confusion_matrix',
    'hungarian_assignment',
    'hungarian_scores',
    'matched_class_histogram',
    'resolve_extra_clusters',
    'segmentation_scores',
]
