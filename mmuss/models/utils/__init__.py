# Copyright (c) mmuss contributors. All rights reserved.
from .code_projection import CodeProjection
from .colour_affinity import (
    colour_affinity_matrix,
    colour_distances,
    gaussian_affinity,
    low_level_cue,
    normalise_affinity_rows,
    squared_colour_distances,
)
from .cue_fusion import (
    align_cue_to_head,
    fuse_cues,
    head_cluster_overlap,
    low_level_visual_cue,
)
from .dense_crf import DEFAULT_CRF_PARAMS, DenseCRF, dense_crf
from .dino_checkpoint import (
    convert_dino_to_mmpretrain,
    is_official_dino_layout,
    load_dino_state_dict,
    read_dino_checkpoint,
    unwrap_state_dict,
)
from .ema_prototypes import EMAPrototypes
from .fuzzy_cmeans import (
    cluster_probabilities,
    downsample_image,
    fcm_centres,
    fcm_memberships,
    fcm_objective,
    membership_power,
    spatial_fuzzy_cmeans,
    spatial_information,
    spatial_memberships,
    squared_centre_distances,
)
from .ground_truth import strip_ground_truth
from .moco_checkpoint import (
    compare_with_resnet,
    moco_training_state,
    read_moco_checkpoint,
    resnet_depth_of_arch,
    split_moco_state_dict,
    summarise_dropped_keys,
)
from .primaps import (
    mask_mean_features,
    principal_mask_proposals,
    proposal_scores,
    reference_proposals_pca_lowrank,
    refine_proposals,
)

__all__ = [
    'mask_mean_features',
    'principal_mask_proposals',
    'proposal_scores',
    'reference_proposals_pca_lowrank',
    'refine_proposals',
    'CodeProjection',
    'EMAPrototypes',
    'DEFAULT_CRF_PARAMS',
    'DenseCRF',
    'dense_crf',
    'convert_dino_to_mmpretrain',
    'is_official_dino_layout',
    'load_dino_state_dict',
    'read_dino_checkpoint',
    'unwrap_state_dict',
    'compare_with_resnet',
    'moco_training_state',
    'read_moco_checkpoint',
    'resnet_depth_of_arch',
    'split_moco_state_dict',
    'summarise_dropped_keys',
    'strip_ground_truth',
    'cluster_probabilities',
    'downsample_image',
    'fcm_centres',
    'fcm_memberships',
    'fcm_objective',
    'membership_power',
    'spatial_fuzzy_cmeans',
    'spatial_information',
    'spatial_memberships',
    'squared_centre_distances',
    'colour_affinity_matrix',
    'colour_distances',
    'gaussian_affinity',
    'low_level_cue',
    'normalise_affinity_rows',
    'squared_colour_distances',
    'align_cue_to_head',
    'fuse_cues',
    'head_cluster_overlap',
    'low_level_visual_cue',
]
