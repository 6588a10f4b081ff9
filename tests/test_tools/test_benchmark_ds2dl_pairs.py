# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, run_tool, table_rows

from mmuss.utils import benchmarking

ARGS = ['--batch-size', '2', '--size', '64', '--steps', '2', '--device', 'cpu']


def test_times_follow_the_clock_and_pairs_are_counted(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_ds2dl_pairs.py')
    result = tool.main([*ARGS, '--chunks', '0', '16', '--in-process'])
    out = capsys.readouterr().out
    # (64 / 8)^2 = 64 pixels; 2 images x 64^2 intra + as many cross pairs
    assert result['pixels'] == 64 and result['pairs'] == 2 * 2 * 64 * 64
    assert 'N = 64 pixels (0.0 M pairs)' in out
    rows = {row[0]: row[1:] for row in table_rows(out)}
    # one timed region of 2 steps read as 0.5 s: 0.25 s per step
    assert rows['none'][0] == rows['16'][0] == '0.2500'
    assert all(r['seconds'] == 0.25 for r in result['results'].values())


def test_fresh_processes_measure_each_chunk_size():
    out = run_tool(
        'analysis_tools/benchmark_ds2dl_pairs.py', *ARGS, '--chunks', '0', '8'
    ).stdout
    rows = {row[0]: row[1:] for row in table_rows(out)}
    assert set(rows) >= {'none', '8'}
    for chunk in ('none', '8'):
        seconds, peak = rows[chunk]
        assert float(seconds) > 0 and float(peak) >= 0
