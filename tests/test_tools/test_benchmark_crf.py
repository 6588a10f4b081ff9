# Copyright (c) mmuss contributors. All rights reserved.
from helpers import FakeClock, import_tool, table_rows

from mmuss.utils import benchmarking


def test_rates_and_speed_up_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_crf.py')
    rates = tool.main(
        ['--images', '2', '--size', '32', '--classes', '3']
        + ['--workers', '1', '2']
    )
    # 2 images in one 0.5 s timed call for each worker count
    assert rates == {1: 4.0, 2: 4.0}
    rows = table_rows(capsys.readouterr().out)
    assert rows[-3] == ['workers', 'images/s', 'speed-up']
    assert rows[-2] == ['1', '4.00', '1.00x']
    assert rows[-1] == ['2', '4.00', '1.00x']


def test_speed_up_is_the_ratio_of_the_printed_rates(capsys):
    tool = import_tool('analysis_tools/benchmark_crf.py')
    rates = tool.main(
        ['--images', '2', '--size', '32', '--classes', '3']
        + ['--workers', '1', '2']
    )
    rows = table_rows(capsys.readouterr().out)
    assert rows[-2][2] == '1.00x'
    assert float(rows[-1][1]) == round(rates[2], 2)
    assert rows[-1][2] == f'{rates[2] / rates[1]:.2f}x'
