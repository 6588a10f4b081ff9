# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, run_tool, table_rows

from mmuss.utils import benchmarking

ARGS = [
    '--batch-size', '2', '--size', '32', '--embed-dims', '32',
    '--num-layers', '1', '--samples', '3', '--device', 'cpu',
]  # fmt: skip


def test_times_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_unim2_modalities.py')
    results = tool.main(
        [*ARGS, '--modalities', '1', '3', '--steps', '2', '--in-process']
    )
    # one timed region of 2 steps read as 0.5 s: 0.25 s per step
    assert set(results) == {1, 3}
    for result in results.values():
        assert result['seconds'] == 0.25 and result['steps_per_s'] == 4.0
        assert result['images_per_s'] == 8.0 and result['peak_mb'] > 0
    rows = table_rows(capsys.readouterr().out)
    assert rows[-3][:3] == ['modalities', 'steps/s', 'images/s']
    assert rows[-2][:3] == ['1', '4.000', '8.00']


def test_model_has_the_requested_modalities():
    tool = import_tool('analysis_tools/benchmark_unim2_modalities.py')
    cfg = tool.unim2_model_cfg(vars(tool.parse_args(ARGS)), 3)
    assert cfg['decode_head']['modalities'] == ('modality1', 'modality2')
    assert len(cfg['data_preprocessor']['aux_channels']) == 2
    assert set(cfg['decode_head']['loss_cmcs']['modalities']) == {
        'image',
        'modality1',
        'modality2',
    }


def test_runs_as_a_script_in_fresh_processes():
    out = run_tool(
        'analysis_tools/benchmark_unim2_modalities.py',
        *ARGS,
        '--modalities', '2',
        '--steps', '1',
    ).stdout  # fmt: skip
    row = table_rows(out)[-1]
    assert row[0] == '2' and float(row[1]) > 0 and float(row[-1]) > 0
    assert 'batch 2, 32 px' in out
