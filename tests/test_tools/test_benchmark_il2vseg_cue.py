# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, run_tool, table_rows

from mmuss.utils import benchmarking

ARGS = ['--batch-size', '2', '--clusters', '3', '--iters', '2']


def test_times_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_il2vseg_cue.py')
    result = tool.main(
        [*ARGS, '--sizes', '32', '64', '--steps', '2', '--device', 'cpu']
    )
    out = capsys.readouterr().out
    # one timed region of 2 calls x 2 images read as 0.5 s: 125 ms/image
    assert result == {32: 125.0, 64: 125.0}
    rows = {row[0]: row[1:] for row in table_rows(out)}
    assert rows['32'] == ['16', '125.00'] and rows['64'] == ['64', '125.00']


def test_runs_as_a_script():
    out = run_tool(
        'analysis_tools/benchmark_il2vseg_cue.py',
        *ARGS,
        '--sizes',
        '32',
        '--chunk',
        '5',
        '--device',
        'cpu',
    ).stdout
    rows = {row[0]: row[1:] for row in table_rows(out)}
    assert float(rows['32'][1]) > 0
