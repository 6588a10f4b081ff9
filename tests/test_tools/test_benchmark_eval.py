# Copyright (c) mmuss contributors. All rights reserved.
from helpers import DEMO_CONFIG, FakeClock, import_tool, table_rows

from mmuss.utils import benchmarking

ARGS = [DEMO_CONFIG, '--synthetic', '--synthetic-images', '4', '--size', '64']
ARGS += ['--images', '4', '--batch-size', '2', '--device', 'cpu']


def test_rate_follows_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_eval.py')
    result = tool.main(ARGS)
    out = capsys.readouterr().out
    rows = {row[0]: row[1:] for row in table_rows(out)}
    # 2 test steps of 2 images in one 0.5 s call
    assert result['images_per_s'] == 8.0 and result['synthetic']
    assert rows['evaluation images/s'] == ['8.00']
    assert '4 images at 64px, batch 2, synthetic scenes' in out
