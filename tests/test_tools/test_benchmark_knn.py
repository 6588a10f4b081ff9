# Copyright (c) mmuss contributors. All rights reserved.
import torch
from helpers import FakeClock, import_tool, table_rows

from mmuss.utils import benchmarking

ARGS = ['--images', '4', '--batch-size', '2', '--resolution', '32']
ARGS += ['--database', '50', '--topk', '5']


def test_search_returns_the_brute_force_top_k(capsys):
    tool = import_tool('analysis_tools/benchmark_knn.py')
    result = tool.main(ARGS)
    database = result['database']
    assert database.shape == (50, 96)  # the demo backbone's width
    expected = (database @ database.T).topk(5, dim=1).indices
    assert torch.equal(torch.as_tensor(result['neighbours']), expected)
    assert 'top-5 search over 50 images' in capsys.readouterr().out


def test_rates_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_knn.py')
    result = tool.main(ARGS)
    rows = {row[0]: row[1:] for row in table_rows(capsys.readouterr().out)}
    # 2 batches of 2 images in one 0.5 s call; the search is one call
    assert result['images_per_s'] == 8.0 and result['search_s'] == 0.5
    assert rows['descriptors (backbone forward)'] == ['8.0 images/s']
    assert rows['top-5 search over 50 images'] == ['0.50 s']
