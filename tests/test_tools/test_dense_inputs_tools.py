# Copyright (c) mmuss contributors. All rights reserved.
"""Offline tools on a config whose inputs carry a stacked dense map or
modality: they give the backbone the image channels only (KNN descriptors
come from the RGB image)."""

import numpy as np
import pytest
from helpers import (
    demo_config,
    depth_demo_config,
    modality_demo_config,
    run_tool,
)


@pytest.mark.parametrize('stacked', [depth_demo_config, modality_demo_config])
def test_knn_lists_ignore_the_stacked_channels(tmp_path, stacked):
    data_root = tmp_path / 'data'
    with_stacked = stacked(tmp_path / 'work', data_root)
    plain = demo_config(tmp_path / 'work', data_root)
    outputs = []
    for name, cfg in (('stacked', with_stacked), ('plain', plain)):
        config = tmp_path / f'{name}.py'
        cfg.dump(str(config))
        out = tmp_path / f'{name}.npz'
        run_tool('precompute_knn.py', config, '--out', out, '--num-workers', 0)
        outputs.append(np.load(out))
    np.testing.assert_array_equal(outputs[0]['nns'], outputs[1]['nns'])
    assert outputs[0]['nns'].shape[0] == 16
