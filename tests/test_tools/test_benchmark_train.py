# Copyright (c) mmuss contributors. All rights reserved.
from helpers import (
    DEMO_CONFIG,
    REPO_ROOT,
    FakeClock,
    import_tool,
    run_tool,
    table_rows,
)

from mmuss.utils import benchmarking

SMALL = ['--synthetic', '--synthetic-images', '8', '--batch-size', '2']
SMALL += ['--steps', '2', '--device', 'cpu']


def test_rates_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_train.py')
    result = tool.main([DEMO_CONFIG, *SMALL])
    rows = {row[0]: row[1:] for row in table_rows(capsys.readouterr().out)}
    # 2 steps in one 0.5 s call; batch 2; the head alone: 0.5 s / 2 steps
    assert result['steps_per_s'] == 4.0 and result['images_per_s'] == 8.0
    assert rows['training steps/s'] == ['4.000']
    assert rows['images/s'] == ['8.00']
    assert rows['head codes + loss forward+backward (s/step)'] == ['0.2500']
    assert float(rows['peak memory (MB)'][0]) > 0


def test_primaps_em_phase_with_its_derived_masks():
    # the pseudo masks of the synthetic scenes are made by
    # tools/precompute_primaps.py; the init hook's before_train runs, and
    # kmeans_iters=0 puts the head in its EM phase
    out = run_tool(
        'analysis_tools/benchmark_train.py',
        f'{REPO_ROOT}/configs/primaps/tiny-vit_synthetic.py',
        *SMALL,
        '--cfg-options',
        'custom_hooks.4.kmeans_iters=0',
    ).stdout
    assert 'making derived files: python tools/precompute_primaps.py' in out
    rows = {row[0]: row[1:] for row in table_rows(out)}
    steps_per_s = float(rows['training steps/s'][0])
    assert (
        float(rows['images/s'][0]) == round(steps_per_s * 2, 2)
        or abs(float(rows['images/s'][0]) - steps_per_s * 2) <= 0.005 + 2e-3
    )
    assert float(rows['peak memory (MB)'][0]) > 0
    assert float(rows['head codes + loss forward+backward (s/step)'][0]) > 0
    assert 'batch 2, 128px, synthetic scenes, cpu' in out


def test_module_forward_times_follow_the_clock(monkeypatch, capsys):
    """Every clock read advances 0.5 s: a module's forward (two reads)
    takes 0.5 s per call; the backbone runs once per step."""
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_train.py')
    result = tool.main([DEMO_CONFIG, *SMALL, '--modules', 'backbone'])
    shares = result['module_s']
    assert shares['backbone'] == 0.5
    rows = {row[0]: row[1:] for row in table_rows(capsys.readouterr().out)}
    assert rows['forward of backbone (s/step, share)'][0].startswith(
        '0.5000 ('
    )


def test_unknown_module_is_named():
    import pytest
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="'head'.*top level"):
        with benchmarking.module_forward_timers(model, ['head']):
            pass
