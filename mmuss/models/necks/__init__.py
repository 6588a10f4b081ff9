# Copyright (c) mmuss contributors. All rights reserved.
from .cross_modal_harmonization import CrossModalHarmonization
from .dca_decoder import (
    CONDITIONINGS,
    DCADecoder,
    condition_queries,
    feature_pyramid,
    flatten_levels,
    reference_points,
    sine_position_embedding,
)
from .differentiable_box_counting import (
    CLASS_REDUCTIONS,
    DEPTH_DESCRIPTORS,
    DESCRIPTORS,
    SEMANTIC_DESCRIPTORS,
    DifferentiableBoxCounting,
    StructureVectors,
)
from .modality_fusion import (
    FUSION_MODES,
    ModalityFusion,
    progressive_fusion_layers,
)
from .modality_specific_network import ModalitySpecificNetwork

__all__ = [
    'CrossModalHarmonization',
    'CONDITIONINGS',
    'DCADecoder',
    'condition_queries',
    'feature_pyramid',
    'flatten_levels',
    'reference_points',
    'sine_position_embedding',
    'CLASS_REDUCTIONS',
    'DEPTH_DESCRIPTORS',
    'DESCRIPTORS',
    'SEMANTIC_DESCRIPTORS',
    'DifferentiableBoxCounting',
    'StructureVectors',
    'FUSION_MODES',
    'ModalityFusion',
    'progressive_fusion_layers',
    'ModalitySpecificNetwork',
]
