# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, run_tool, table_rows

from mmuss.utils import benchmarking

ARGS = ['--batch-size', '2', '--device', 'cpu']


def test_times_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_structaug.py')
    result = tool.main([*ARGS, '--sizes', '16', '24', '--steps', '2'])
    out = capsys.readouterr().out
    # each timed region of 2 calls read as 0.5 s: 250 ms per batch
    expected = dict(forward=250.0, forward_backward=250.0)
    assert result == {16: expected, 24: expected}
    rows = {row[0]: row[1:] for row in table_rows(out)}
    assert rows['16'] == ['250.0', '250.0'] and rows['24'] == rows['16']


def test_runs_as_a_script():
    out = run_tool(
        'analysis_tools/benchmark_structaug.py',
        *ARGS,
        '--sizes',
        '32',
        '--kernel-size',
        '5',
        '--soft',
    ).stdout
    assert 'soft selection' in out and '5x5' in out
    rows = {row[0]: row[1:] for row in table_rows(out)}
    assert float(rows['32'][0]) > 0 and float(rows['32'][1]) > 0
