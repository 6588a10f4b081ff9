# Copyright (c) mmuss contributors. All rights reserved.
from .primaps_focal_loss import (
    PrimapsFocalLoss,
    class_confidence_weights,
    mask_mode_labels,
    primaps_focal_loss,
)
from .smooseg_smoothness_loss import (
    SmooSegSmoothnessLoss,
    prototype_pseudo_label_loss,
    smoothness_loss_map,
)
from .stego_correspondence_loss import (
    StegoCorrespondenceLoss,
    code_correlation,
    correspondence_loss_map,
    feature_correlation,
    random_derangement,
    sample_at,
    stego_super_perm,
    tensor_correlation,
)

__all__ = [
    'PrimapsFocalLoss',
    'class_confidence_weights',
    'mask_mode_labels',
    'primaps_focal_loss',
    'SmooSegSmoothnessLoss',
    'prototype_pseudo_label_loss',
    'smoothness_loss_map',
    'StegoCorrespondenceLoss',
    'code_correlation',
    'correspondence_loss_map',
    'feature_correlation',
    'random_derangement',
    'sample_at',
    'stego_super_perm',
    'tensor_correlation',
]
