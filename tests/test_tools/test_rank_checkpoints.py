# Copyright (c) mmuss contributors. All rights reserved.
import glob
import json
import math

import numpy as np
import pytest
import torch
from helpers import demo_config, import_tool
from mmseg.registry import MODELS
from PIL import Image

RANK_ARGS = ['--num-images', '4', '--batch-size', '2']


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    """A work dir of the demo (64 px scenes) with three checkpoints that
    differ in their cluster probe: one centre per class-like direction of a
    k-means of real codes, then noisier centres."""
    root = tmp_path_factory.mktemp('rank')
    cfg = demo_config(root / 'run', root / 'data')
    (root / 'run').mkdir()
    cfg.dump(str(root / 'run' / 'demo.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    generator = torch.Generator().manual_seed(0)
    centres = model.cluster_probe.clusters.data.clone()
    for step, noise in enumerate((0.0, 1.0, 5.0), 1):
        model.cluster_probe.clusters.data = centres + noise * torch.randn(
            centres.shape, generator=generator
        )
        torch.save(
            dict(state_dict=model.state_dict(), meta=dict(iter=step)),
            root / 'run' / f'iter_{step}.pth',
        )
    return root


def replace_labels_with_noise(data_root):
    generator = np.random.default_rng(0)
    paths = glob.glob(str(data_root / 'annotations' / 'val' / '*.png'))
    assert paths
    for path in paths:
        shape = np.asarray(Image.open(path)).shape
        noise = generator.integers(0, 11, shape, dtype=np.uint8)
        Image.fromarray(noise).save(path)


def test_ranking_is_unchanged_when_labels_are_noise(run_dir, capsys):
    tool = import_tool('analysis_tools/rank_checkpoints.py')
    out = run_dir / 'ranking.json'
    args = [str(run_dir / 'run'), '--score', 'affinity'] + RANK_ARGS
    clean = tool.main(args + ['--out', str(out)])
    assert len(clean) == 3
    assert all(0 <= value <= 1 for _, value in clean)
    saved = json.loads(out.read_text())
    assert saved['score'] == 'affinity' and len(saved['checkpoints']) == 3
    replace_labels_with_noise(run_dir / 'data')
    noisy = tool.main(args)
    assert noisy == clean
    printed = capsys.readouterr().out
    assert 'label_free/affinity' in printed


def test_ranking_resumes_from_its_file(run_dir, capsys):
    tool = import_tool('analysis_tools/rank_checkpoints.py')
    out = run_dir / 'resume.json'
    fake = {
        str(run_dir / 'run' / f'iter_{i}.pth'): dict(
            config='x.py', scores={'label_free/kmeans': float(i)}
        )
        for i in (1, 2, 3)
    }
    out.write_text(json.dumps(dict(checkpoints=fake)))
    ranking = tool.main(
        [str(run_dir / 'run'), '--score', 'kmeans', '--out', str(out)]
        + RANK_ARGS
    )
    assert [value for _, value in ranking] == [3.0, 2.0, 1.0]
    out.write_text('[1, 2]')
    with pytest.raises(ValueError, match='resume.json'):
        tool.main([str(run_dir / 'run'), '--out', str(out)])


def test_evidence_table_hand_computed():
    tool = import_tool('analysis_tools/label_free_selection_evidence.py')

    def record(run, order, score, miou):
        return dict(
            run=run,
            order=order,
            splits=dict(val={'label_free/x': score, 'mIoU': miou}),
        )

    results = {
        'a1': record('a', 0, 1.0, 10.0),
        'a2': record('a', 1, 2.0, 20.0),
        'b1': record('b', 0, 3.0, 40.0),
        'b2': record('b', 1, 4.0, 30.0),
        'c1': record('c', 0, float('nan'), 50.0),
    }
    (row,) = tool.evidence_table(results, 'val')
    # all finite checkpoints: ranks 1,2,3,4 vs mIoU ranks 1,2,4,3
    assert row['all_checkpoints'] == pytest.approx(0.8)
    # last checkpoints a2 (2, 20), b2 (4, 30): fewer than 3 -> NaN
    assert math.isnan(row['last_checkpoints'])
    assert row['within_run'] == '1/2' and row['checkpoints'] == 4
    # the score ranks b2 (30) first, the best is c1's 50 but c1 has no
    # score: among finite ones the best is b1's 40
    assert row['regret_all'] == pytest.approx(10.0)
    assert row['regret_last'] == pytest.approx(0.0)  # b2 (30) over a2 (20)
    # a subset of the records: score ranks 2, 3, 1, mIoU ranks 3, 2, 1
    (row,) = tool.evidence_table(results, 'val', ['b1', 'b2', 'a2'])
    assert row['all_checkpoints'] == pytest.approx(0.5)
    assert row['regret_all'] == 10.0 and row['checkpoints'] == 3


def test_evidence_tool_on_a_run(run_dir, capsys):
    tool = import_tool('analysis_tools/label_free_selection_evidence.py')
    tables = tool.main(
        [
            str(run_dir / 'run'),
            '--splits',
            'val',
            '--out',
            str(run_dir / 'evidence.json'),
        ]
        + RANK_ARGS
    )
    scores = {row['score'] for row in tables['val']}
    assert {
        'label_free/affinity',
        'label_free/objective',
        'label_free/probe_agreement',
    } <= scores
    saved = json.loads((run_dir / 'evidence.json').read_text())
    first = next(iter(saved['checkpoints'].values()))
    assert 'mIoU' in first['splits']['val']
    assert 'Spearman' in capsys.readouterr().out
