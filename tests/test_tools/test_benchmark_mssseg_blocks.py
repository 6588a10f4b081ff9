# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, run_tool, table_rows

from mmuss.utils import benchmarking

ARGS = [
    '--batch-size', '2', '--classes', '3', '--dbc-size', '12',
    '--box-sizes', '2', '4', '--channels', '8', '--feature-size', '4',
    '--device', 'cpu',
]  # fmt: skip


def test_times_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_mssseg_blocks.py')
    results = tool.main([*ARGS, '--steps', '2'])
    # one timed region of 2 steps read as 0.5 s: 250 ms per batch
    assert results == {'dbc': 250.0, 'dca': 250.0}
    rows = table_rows(capsys.readouterr().out)
    assert rows[-3] == ['block', 'input', 'ms/batch']
    assert rows[-2][0] == 'dbc' and rows[-2][-1] == '250.0'
    assert rows[-1][0] == 'dca' and rows[-1][-1] == '250.0'


def test_runs_as_a_script():
    out = run_tool(
        'analysis_tools/benchmark_mssseg_blocks.py', *ARGS, '--steps', '1'
    ).stdout
    rows = {row[0]: row for row in table_rows(out)[-2:]}
    assert set(rows) == {'dbc', 'dca'}
    assert all(float(row[-1]) > 0 for row in rows.values())
    assert 'batch 2, cpu' in out
    assert '3x12x12 + depth, boxes 2,4' in out
