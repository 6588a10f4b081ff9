# Copyright (c) mmuss contributors. All rights reserved.
import re

from helpers import REPO_ROOT, run_tool, table_rows


def test_speed_up_is_the_ratio_of_the_printed_rates():
    # STEGO: the KNN file of the synthetic scenes is made by
    # tools/precompute_knn.py
    out = run_tool(
        'analysis_tools/benchmark_feature_cache.py',
        f'{REPO_ROOT}/configs/stego/tiny-vit_synthetic.py',
        '--synthetic',
        '--synthetic-images',
        '8',
        '--batch-size',
        '2',
        '--steps',
        '2',
        '--device',
        'cpu',
    ).stdout
    assert 'making derived files: python tools/precompute_knn.py' in out
    rows = {row[0]: row[1:] for row in table_rows(out)}
    backbone = float(rows['train, backbone every step'][0].split()[0])
    cached, speed_up = re.fullmatch(
        r'([\d.]+) steps/s \(([\d.]+)x\)', rows['train, feature cache'][0]
    ).groups()
    # the rates are printed to 3 decimals, the speed-up to 2
    ratio = float(cached) / backbone
    assert abs(float(speed_up) - ratio) <= 0.005 + ratio * 2e-3 / backbone
    for key in ('train, backbone every step', 'train, feature cache'):
        assert float(rows[key][1]) > 0  # peak memory (MB)
    assert 'batch 2 at 128px, synthetic scenes' in out
