# Copyright (c) mmuss contributors. All rights reserved.
from .modality_fusion import FUSION_MODES, ModalityFusion

__all__ = ['FUSION_MODES', 'ModalityFusion']
