# Copyright (c) mmuss contributors. All rights reserved.
from .cluster_mapping_io import (
    MAPPING_STATE_KEY,
    hungarian_mapping_of,
    load_mapping_json,
    mapping_json_path,
    save_mapping_json,
    store_mapping_in_checkpoint,
)
from .inference import init_uss_model

__all__ = [
    'MAPPING_STATE_KEY',
    'hungarian_mapping_of',
    'init_uss_model',
    'load_mapping_json',
    'mapping_json_path',
    'save_mapping_json',
    'store_mapping_in_checkpoint',
]
