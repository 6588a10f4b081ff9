# Copyright (c) mmuss contributors. All rights reserved.
"""Does a label-free score select what ground truth would? Spearman rank
correlation of each label-free score with the Hungarian mIoU.

    python tools/analysis_tools/label_free_selection_evidence.py \\
        ENTRY [ENTRY ...] --out evidence.json [--splits val test]
        [--data-root DIR] [--num-images N] [--batch-size 4]
        [--selection KEY=VALUE ...] [--cfg-options KEY=VALUE ...]

ENTRY is a work dir (dumped config, every ``*.pth``) or
``CONFIG::CHECKPOINT``. Every checkpoint is evaluated on each split (the
``test`` split of the synthetic scenes is a held-out generator seed) with
:class:`LabelFreeScoreMetric` (the head's objective included; NaN where
the validation samples lack what the head's loss reads) and, apart, with
:class:`HungarianIoUMetric`, the only place labels are read. Per split and
score the table gives the Spearman correlation (``scipy.stats.spearmanr``)
over all checkpoints, over the last checkpoint of each run (across
configs and seeds), the regret of selecting by the score (the best
mIoU minus the mIoU of the checkpoint, or run, the score ranks first) and
the share of runs with several checkpoints where the score's best
checkpoint is the mIoU's best. Results are written to ``--out``
atomically after every checkpoint; a rerun resumes, and the tables cover
the entries named on the command line only, so a subset of a finished
``--out`` (e.g. one hyperparameter sweep) is tabulated without
evaluating again. A checkpoint already in ``--out`` is not evaluated
again whatever the options: delete it from the file to recompute.
"""

import argparse
import math
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np
from mmengine.registry import init_default_scope
from scipy.stats import spearmanr

from mmuss.utils.label_free_selection import (
    SCORE_PREFIX,
    add_evaluation_arguments,
    checkpoint_order,
    discover_checkpoints,
    evaluate_checkpoint,
    evaluation_config,
    load_results,
    save_results,
)

LABEL_FREE_METRIC = dict(type='LabelFreeScoreMetric')
GROUND_TRUTH_METRIC = dict(type='HungarianIoUMetric', num_vis_samples=0)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_evaluation_arguments(parser)
    parser.add_argument('--splits', nargs='+', default=['val', 'test'])
    return parser.parse_args(argv)


def split_scores(
    config: str, checkpoint: str, split: str, args: argparse.Namespace
) -> Dict[str, float]:
    """Label-free scores and mIoU of a checkpoint on a split; the
    objective is NaN when the head's loss cannot run on it."""
    cfg = evaluation_config(
        config,
        args.data_root,
        split,
        args.num_images,
        args.batch_size,
        args.cfg_options,
    )
    selection = dict(dict(objective=True), **args.selection)
    try:
        scores = evaluate_checkpoint(
            cfg, checkpoint, [LABEL_FREE_METRIC], selection, args.device
        )
    except ValueError as error:
        print(f'{checkpoint}: no held-out objective ({error})')
        selection['objective'] = False
        scores = evaluate_checkpoint(
            cfg, checkpoint, [LABEL_FREE_METRIC], selection, args.device
        )
    truth = evaluate_checkpoint(
        cfg, checkpoint, [GROUND_TRUTH_METRIC], None, args.device
    )
    scores['mIoU'] = truth['mIoU']
    return scores


def spearman(values: List[float], miou: List[float]) -> float:
    """Spearman correlation over the pairs where the score is finite."""
    pairs = [(v, m) for v, m in zip(values, miou) if math.isfinite(v)]
    if len(pairs) < 3:
        return float('nan')
    rho = spearmanr(*zip(*pairs)).statistic
    return float(rho)


def within_run_hits(records: List[dict], key: str) -> tuple:
    """(runs where the score's best checkpoint is the mIoU's best, runs
    with several checkpoints and finite scores)."""
    runs = defaultdict(list)
    for record in records:
        runs[record['run']].append(record)
    hits = total = 0
    for run in runs.values():
        finite = [r for r in run if math.isfinite(r['scores'][key])]
        if len(finite) < 2:
            continue
        total += 1
        by_score = max(finite, key=lambda r: r['scores'][key])
        by_miou = max(finite, key=lambda r: r['scores']['mIoU'])
        hits += by_score['scores']['mIoU'] == by_miou['scores']['mIoU']
    return hits, total


def selection_regret(values: List[float], miou: List[float]) -> float:
    """The best mIoU minus the mIoU of the item the score ranks first
    (among items with a finite score); 0 when the score picks the best."""
    finite = [(v, m) for v, m in zip(values, miou) if math.isfinite(v)]
    if not finite:
        return float('nan')
    picked = max(finite, key=lambda pair: pair[0])[1]
    return float(max(m for _, m in finite) - picked)


def evidence_table(
    results: dict, split: str, checkpoints: Optional[List[str]] = None
) -> List[dict]:
    """One row per label-free score: Spearman and regret over all
    checkpoints and over the runs' last checkpoints, and within-run
    picks; over ``checkpoints`` (default: every one in ``results``)."""
    names = results if checkpoints is None else checkpoints
    records = [
        dict(
            run=results[name]['run'],
            order=results[name]['order'],
            scores=results[name]['splits'][split],
        )
        for name in names
        if split in results[name]['splits']
    ]
    if not records:
        return []
    last = {}
    for record in records:
        if (
            record['run'] not in last
            or record['order'] > last[record['run']]['order']
        ):
            last[record['run']] = record
    keys = sorted(
        set.intersection(*(set(r['scores']) for r in records)) - {'mIoU'}
    )
    rows = []
    for key in keys:
        hits, runs = within_run_hits(records, key)
        every = (
            [r['scores'][key] for r in records],
            [r['scores']['mIoU'] for r in records],
        )
        lasts = (
            [r['scores'][key] for r in last.values()],
            [r['scores']['mIoU'] for r in last.values()],
        )
        rows.append(
            dict(
                score=key,
                all_checkpoints=spearman(*every),
                last_checkpoints=spearman(*lasts),
                regret_all=selection_regret(*every),
                regret_last=selection_regret(*lasts),
                within_run=f'{hits}/{runs}',
                checkpoints=sum(
                    math.isfinite(r['scores'][key]) for r in records
                ),
            )
        )
    return rows


def print_table(rows: List[dict], split: str) -> None:
    print(
        f'\nsplit {split}: Spearman rho with mIoU\n'
        '| score | all checkpoints | last checkpoint per run | '
        'regret: all | regret: last | within run (best picked) | n |\n'
        '|---|---|---|---|---|---|---|'
    )
    for row in rows:
        print(
            f'| {row["score"]} | {row["all_checkpoints"]:.2f} | '
            f'{row["last_checkpoints"]:.2f} | {row["regret_all"]:.2f} | '
            f'{row["regret_last"]:.2f} | {row["within_run"]} | '
            f'{row["checkpoints"]} |'
        )


def main(argv: Optional[List[str]] = None) -> Dict[str, List[dict]]:
    """Evaluate, print and return the tables (per split)."""
    args = parse_args(argv)
    init_default_scope('mmseg')
    results = load_results(args.out)
    named = []
    for entry in args.entries:
        for config, checkpoint in discover_checkpoints(entry):
            named.append(checkpoint)
            record = results.setdefault(
                checkpoint,
                dict(
                    config=config,
                    run=osp.dirname(osp.abspath(checkpoint)),
                    order=checkpoint_order(checkpoint)[0],
                    splits={},
                ),
            )
            for split in args.splits:
                if split in record['splits']:
                    continue
                record['splits'][split] = split_scores(
                    config, checkpoint, split, args
                )
                save_results(args.out, results)
    named = list(dict.fromkeys(named))
    tables = {
        split: evidence_table(results, split, named) for split in args.splits
    }
    for split, rows in tables.items():
        print_table(rows, split)
    finite = [
        results[name]['splits'][s]['mIoU']
        for name in named
        for s in results[name]['splits']
    ]
    print(
        f'\n{len(named)} checkpoints, mIoU {np.min(finite):.2f}-'
        f'{np.max(finite):.2f} ({SCORE_PREFIX} scores: higher is better)'
    )
    return tables


if __name__ == '__main__':
    main()
