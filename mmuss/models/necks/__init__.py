# Copyright (c) mmuss contributors. All rights reserved.
from .differentiable_box_counting import (
    CLASS_REDUCTIONS,
    DEPTH_DESCRIPTORS,
    DESCRIPTORS,
    SEMANTIC_DESCRIPTORS,
    DifferentiableBoxCounting,
    StructureVectors,
)
from .modality_fusion import FUSION_MODES, ModalityFusion

__all__ = [
    'CLASS_REDUCTIONS',
    'DEPTH_DESCRIPTORS',
    'DESCRIPTORS',
    'SEMANTIC_DESCRIPTORS',
    'DifferentiableBoxCounting',
    'StructureVectors',
    'FUSION_MODES',
    'ModalityFusion',
]
