# Copyright (c) mmuss contributors. All rights reserved.
"""Offline dataset preparation: converters, five-crop, KNN lists."""

from .cityscapes27 import convert_cityscapes27, label_ids_to_27
from .cocostuff27 import (
    COCOSTUFF_FINE_TO_COARSE,
    convert_cocostuff27,
    fine_to_coarse,
    meets_curation_rule,
)
from .five_crop import five_crop_dataset
from .knn import (
    global_descriptors,
    knn_file_name,
    load_knn_file,
    nearest_neighbours,
    save_knn_file,
)
from .mastr1325 import convert_mastr1325, mastr_mask_to_classes
from .parallel import ConversionError, run_jobs
from .pascal_voc import convert_pascal_voc
from .potsdam3 import POTSDAM_MERGES, convert_potsdam3, merge_potsdam_labels

__all__ = [
    'COCOSTUFF_FINE_TO_COARSE',
    'POTSDAM_MERGES',
    'ConversionError',
    'convert_cityscapes27',
    'convert_cocostuff27',
    'convert_mastr1325',
    'convert_pascal_voc',
    'convert_potsdam3',
    'fine_to_coarse',
    'five_crop_dataset',
    'global_descriptors',
    'knn_file_name',
    'label_ids_to_27',
    'load_knn_file',
    'mastr_mask_to_classes',
    'meets_curation_rule',
    'merge_potsdam_labels',
    'nearest_neighbours',
    'run_jobs',
    'save_knn_file',
]
