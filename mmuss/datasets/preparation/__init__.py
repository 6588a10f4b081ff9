# Copyright (c) mmuss contributors. All rights reserved.
"""Offline dataset preparation: converters, five-crop, KNN lists, depth
priors."""

from .cityscapes27 import convert_cityscapes27, label_ids_to_27
from .cocostuff27 import (
    COCOSTUFF_FINE_TO_COARSE,
    convert_cocostuff27,
    fine_to_coarse,
    meets_curation_rule,
)
from .depth import (
    DepthTarget,
    depth_targets,
    load_depth_estimator,
    min_max_normalise,
    network_input_size,
    precompute_depth,
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
from .mcubes import convert_mcubes, encode_aolp, encode_dolp
from .mfnet import convert_mfnet, mfnet_label_to_classes, split_rgb_thermal
from .multimodal import min_max_to_uint8
from .nyu_depth_v2 import NYU40_TO_13, convert_nyu_depth_v2, nyu40_to_13
from .parallel import ConversionError, run_jobs
from .pascal_voc import convert_pascal_voc
from .potsdam3 import POTSDAM_MERGES, convert_potsdam3, merge_potsdam_labels

__all__ = [
    'COCOSTUFF_FINE_TO_COARSE',
    'NYU40_TO_13',
    'POTSDAM_MERGES',
    'ConversionError',
    'DepthTarget',
    'convert_cityscapes27',
    'convert_cocostuff27',
    'convert_mastr1325',
    'convert_mcubes',
    'convert_mfnet',
    'convert_nyu_depth_v2',
    'convert_pascal_voc',
    'convert_potsdam3',
    'depth_targets',
    'encode_aolp',
    'encode_dolp',
    'fine_to_coarse',
    'five_crop_dataset',
    'global_descriptors',
    'knn_file_name',
    'label_ids_to_27',
    'load_depth_estimator',
    'load_knn_file',
    'mastr_mask_to_classes',
    'mfnet_label_to_classes',
    'min_max_to_uint8',
    'meets_curation_rule',
    'merge_potsdam_labels',
    'min_max_normalise',
    'nearest_neighbours',
    'network_input_size',
    'nyu40_to_13',
    'precompute_depth',
    'run_jobs',
    'save_knn_file',
    'split_rgb_thermal',
]
