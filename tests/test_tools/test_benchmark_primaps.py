# Copyright (c) mmuss contributors. All rights reserved.
import torch
from helpers import FakeClock, import_tool, table_rows

from mmuss.models.utils.primaps import principal_mask_proposals
from mmuss.utils import benchmarking

ARGS = ['--images', '2', '--size', '12', '--channels', '16']


def test_masks_agree_and_are_counted(capsys):
    tool = import_tool('analysis_tools/benchmark_primaps.py')
    result = tool.main(ARGS)
    rows = {row[0]: row[1:] for row in table_rows(capsys.readouterr().out)}
    assert rows['identical masks'] == ['True'] and result['identical']
    masks = principal_mask_proposals(tool.structured_features(2, 16, 12))
    assert torch.equal(result['masks'], masks)
    # mask ids are 1..n per image (0 = no mask): the count is the top id
    counts = [len(set(m.unique().tolist()) - {0}) for m in masks]
    assert rows['masks per image'] == [f'{sum(counts) / len(counts):.1f}']


def test_times_follow_the_clock(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, 'perf_counter', FakeClock(0.5))
    tool = import_tool('analysis_tools/benchmark_primaps.py')
    result = tool.main(ARGS)
    rows = {row[0]: row[1:] for row in table_rows(capsys.readouterr().out)}
    # one 0.5 s call for 2 images: 250 ms/image each, speed-up 1
    assert result['batched_ms'] == result['loop_ms'] == 250.0
    assert rows['batched eigh, running moments (mmuss)'] == ['250.0']
    assert rows['per-iteration torch.pca_lowrank loop'] == ['250.0']
    assert rows['speed-up'] == ['1.00x']
