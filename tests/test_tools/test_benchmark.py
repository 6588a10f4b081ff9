# Copyright (c) mmuss contributors. All rights reserved.
import re

import pytest
from helpers import REPO_ROOT, run_tool


def run_benchmark(*args):
    return run_tool('analysis_tools/benchmark.py', *args).stdout


def test_crf_benchmark_prints_a_row_per_worker_count():
    out = run_benchmark(
        'crf',
        '--images',
        '2',
        '--size',
        '32',
        '--classes',
        '3',
        '--workers',
        '1',
        '2',
    )
    lines = out.strip().splitlines()
    assert lines[-3].split()[:3] == ['workers', 'images/s', 'speed-up']
    assert lines[-2].split()[0] == '1' and lines[-1].split()[0] == '2'
    assert lines[-2].split()[2] == '1.00x'


def test_knn_benchmark_on_the_demo_config():
    out = run_benchmark(
        'knn',
        '--images',
        '4',
        '--batch-size',
        '2',
        '--resolution',
        '64',
        '--database',
        '100',
    )
    assert 'images/s' in out and 'top-30 search over 100 images' in out


@pytest.mark.parametrize('method', ['stego', 'primaps', 'ds2dl'])
def test_harness_table_on_the_demo_configs(method):
    # PriMaPs-EM: its head is put in the EM phase (student view uncached)
    out = run_benchmark(
        'harness',
        f'{REPO_ROOT}/configs/{method}/tiny-vit_synthetic.py',
        '--batch-size',
        '2',
        '--steps',
        '2',
        '--eval-size',
        '64',
        '--eval-images',
        '2',
        '--eval-batch-size',
        '2',
        '--crf-images',
        '2',
    )
    rows = {
        line.split('  ')[0]: line
        for line in out.splitlines()
        if line.startswith(('train', 'evaluation', 'dense CRF'))
    }
    assert 'steps/s' in rows['train, backbone every step']
    assert 'x)' in rows['train, feature cache']  # the speed-up
    assert 'images/s' in rows['evaluation']
    assert any(key.startswith('dense CRF') for key in rows)
    assert 'train batch 2 at 128px' in out


def test_primaps_benchmark_masks_agree():
    out = run_benchmark(
        'primaps', '--images', '2', '--size', '12', '--channels', '16'
    )
    assert re.search(r'identical masks\s+True', out)
    assert 'speed-up' in out


def test_pairs_benchmark_prints_a_row_per_chunk_size():
    out = run_benchmark(
        'pairs',
        '--batch-size',
        '2',
        '--size',
        '64',
        '--chunks',
        '0',
        '16',
        '--steps',
        '1',
        '--device',
        'cpu',
    )
    assert 'N = 64 pixels' in out
    rows = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert 'none' in rows and '16' in rows
