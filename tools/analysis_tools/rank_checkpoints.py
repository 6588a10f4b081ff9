# Copyright (c) mmuss contributors. All rights reserved.
"""Rank checkpoints (of runs or configs) by a label-free score.

    python tools/analysis_tools/rank_checkpoints.py ENTRY [ENTRY ...]
        [--score affinity] [--out ranking.json] [--data-root DIR]
        [--num-images N] [--batch-size 4] [--device cpu]
        [--cfg-options KEY=VALUE ...]

ENTRY is a work dir (its dumped config and every ``*.pth`` in it) or
``CONFIG::CHECKPOINT``. Each checkpoint is evaluated on its config's
validation split with :class:`LabelFreeScoreMetric` only: no label is
read (the samples' ground truth is never looked at). The ranking (best
first) is printed and, with ``--out``, written as JSON atomically after
every checkpoint; a rerun with the same ``--out`` skips what is there
(resume).
"""

import argparse
from typing import List, Optional

from mmengine.registry import init_default_scope

from mmuss.utils.label_free_selection import (
    SCORE_PREFIX,
    add_evaluation_arguments,
    check_score_name,
    discover_checkpoints,
    evaluate_checkpoint,
    evaluation_config,
    load_results,
    save_results,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_evaluation_arguments(parser)
    parser.add_argument('--score', default='affinity')
    args = parser.parse_args(argv)
    check_score_name(args.score)
    return args


def label_free_scores(
    config: str, checkpoint: str, args: argparse.Namespace, objective: bool
) -> dict:
    """The label-free scores of one checkpoint (the objective only when
    asked: it runs the head's loss)."""
    cfg = evaluation_config(
        config,
        args.data_root,
        'val',
        args.num_images,
        args.batch_size,
        args.cfg_options,
    )
    selection = dict(dict(objective=objective), **args.selection)
    return evaluate_checkpoint(
        cfg,
        checkpoint,
        [dict(type='LabelFreeScoreMetric')],
        selection,
        args.device,
    )


def rank(results: dict, score: str) -> List[tuple]:
    """(checkpoint, value) best first; NaN scores last."""
    key = f'{SCORE_PREFIX}/{score}'
    values = [(ckpt, r['scores'].get(key)) for ckpt, r in results.items()]
    return sorted(
        values,
        key=lambda item: (
            item[1] is None or item[1] != item[1],
            -(item[1] or 0),
        ),
    )


def main(argv: Optional[List[str]] = None) -> List[tuple]:
    """Print the ranking; return it."""
    args = parse_args(argv)
    init_default_scope('mmseg')
    results = load_results(args.out)
    for entry in args.entries:
        for config, checkpoint in discover_checkpoints(entry):
            if checkpoint in results:
                continue
            scores = label_free_scores(
                config, checkpoint, args, args.score == 'objective'
            )
            results[checkpoint] = dict(config=config, scores=scores)
            save_results(args.out, results, score=args.score)
    ranking = rank(results, args.score)
    print(f'rank  {SCORE_PREFIX}/{args.score}  checkpoint')
    for place, (checkpoint, value) in enumerate(ranking, 1):
        print(f'{place:>4}  {value:>12.5f}  {checkpoint}')
    return ranking


if __name__ == '__main__':
    main()
