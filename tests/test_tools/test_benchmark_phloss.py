# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, run_tool, table_rows

from mmuss.utils import benchmarking

ARGS = ['--batch-size', '2', '--channels', '3', '--sizes', '8', '12']


def test_times_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_phloss.py')
    results = tool.main(
        [*ARGS, '--workers', '0', '2', '--parallel', 'thread', '--steps', '2']
    )
    # one timed region of 2 steps read as 0.5 s: 250 ms per batch
    assert results == {
        (8, 0, '-'): 250.0,
        (8, 2, 'thread'): 250.0,
        (12, 0, '-'): 250.0,
        (12, 2, 'thread'): 250.0,
    }
    rows = table_rows(capsys.readouterr().out)
    assert rows[-5] == ['size', 'workers', 'pool', 'ms/batch', 'speed-up']
    assert rows[-4] == ['8', '0', '-', '250.0', '1.00x']
    assert rows[-1] == ['12', '2', 'thread', '250.0', '1.00x']


def test_inputs_are_probabilities_and_labels():
    tool = import_tool('analysis_tools/benchmark_phloss.py')
    probs, labels = tool.smooth_inputs(2, 5, 16)
    assert probs.shape == (2, 5, 16, 16) and labels.shape == (2, 16, 16)
    assert probs.sum(1).sub(1).abs().max() < 1e-5
    assert labels.min() >= 0 and labels.max() < 5


def test_runs_as_a_script():
    out = run_tool(
        'analysis_tools/benchmark_phloss.py',
        *ARGS,
        '--workers',
        '0',
        '--select',
        'present',
        '--steps',
        '1',
    ).stdout
    rows = {row[0]: row[1:] for row in table_rows(out)[-2:]}
    assert set(rows) == {'8', '12'}
    assert all(float(row[2]) > 0 for row in rows.values())
    assert 'batch 2, 3 channels (present)' in out
