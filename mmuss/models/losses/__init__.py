# Copyright (c) mmuss contributors. All rights reserved.
from .dbc_alignment_loss import DBCAlignmentLoss, cosine_alignment_loss
from .ds2dl_affinity_loss import (
    DS2DLAffinityLoss,
    all_pairs_mining_loss,
    pair_classification_loss,
    pairwise_soft_label,
    reversed_directional_mining_loss,
)
from .ds2dl_cluster_loss import (
    DS2DLClusterLoss,
    local_to_global_loss,
    orthogonality_loss,
    self_labelling_loss,
    sinkhorn_codes,
)
from .il2vseg_feature_similarity_loss import (
    IL2VsegFeatureSimilarityLoss,
    cluster_balance_regulariser,
    feature_similarity_matrix,
    fused_gram_matrix,
    fused_probabilities,
    gram_feature_similarity_loss,
    il2vseg_total_loss,
    kim_continuity_regulariser,
    kim_feature_similarity_loss,
    pixel_similarity_matrix,
)
from .mssseg_pixel_loss import (
    MSSSegPixelLoss,
    distillation_cross_entropy,
    masked_cross_entropy,
    pixel_prototype_infonce,
)
from .ph_loss import (
    PHLoss,
    gather_pairs,
    matched_pair_loss,
    unmatched_pair_loss,
)
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
    'DBCAlignmentLoss',
    'cosine_alignment_loss',
    'DS2DLAffinityLoss',
    'all_pairs_mining_loss',
    'pair_classification_loss',
    'pairwise_soft_label',
    'reversed_directional_mining_loss',
    'DS2DLClusterLoss',
    'local_to_global_loss',
    'orthogonality_loss',
    'self_labelling_loss',
    'sinkhorn_codes',
    'IL2VsegFeatureSimilarityLoss',
    'cluster_balance_regulariser',
    'feature_similarity_matrix',
    'fused_gram_matrix',
    'fused_probabilities',
    'gram_feature_similarity_loss',
    'il2vseg_total_loss',
    'kim_continuity_regulariser',
    'kim_feature_similarity_loss',
    'pixel_similarity_matrix',
    'MSSSegPixelLoss',
    'distillation_cross_entropy',
    'masked_cross_entropy',
    'pixel_prototype_infonce',
    'PHLoss',
    'gather_pairs',
    'matched_pair_loss',
    'unmatched_pair_loss',
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
