# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmuss.evaluation.metrics import LabelFreeScoreMetric


def one_hot_probs(labels, num_clusters=3):
    return F.one_hot(labels, num_clusters).permute(2, 0, 1).float()


def hand_sample(labels, view_labels, objective, gt=None):
    """A prediction whose codes and features point along its clusters."""
    directions = torch.eye(3)
    codes = directions[labels].permute(2, 0, 1)
    sample = dict(
        img_path=f'img_{objective}.png',
        label_free=dict(
            codes=codes,
            probs=one_hot_probs(labels),
            features=codes.clone(),
            view_names=['flip'],
            view_probs=one_hot_probs(view_labels)[None],
            objective=objective,
        ),
    )
    if gt is not None:
        sample['gt_sem_seg'] = dict(data=gt)
    return sample


LABELS = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2]])


def evaluate(samples, **kwargs):
    metric = LabelFreeScoreMetric(pixels_per_image=12, **kwargs)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_hand_computed_scores():
    # the view's clusters are a relabelling (0->1, 1->2, 2->0) except one
    # pixel: the matched agreement is 11 / 12 per image
    view = (LABELS + 1) % 3
    view[2, 3] = 2
    samples = [hand_sample(LABELS, view, 0.5), hand_sample(LABELS, view, 1.5)]
    scores = evaluate(samples, affinity_quantile=0.25)
    assert scores['label_free/objective'] == pytest.approx(-1.0)
    assert scores['label_free/kmeans'] == pytest.approx(1.0)
    assert scores['label_free/silhouette'] == pytest.approx(1.0)
    assert scores['label_free/agreement_flip'] == pytest.approx(11 / 12)
    assert scores['label_free/agreement'] == pytest.approx(11 / 12)
    # features follow the clusters exactly: every high-affinity pair is in
    # one cluster, every low-affinity pair in two
    assert scores['label_free/affinity'] == pytest.approx(1.0)
    # three identical code directions: every probe seed finds them
    assert scores['label_free/probe_agreement'] == 1.0


def test_collapsed_prediction_scores_half_on_affinity():
    collapsed = torch.zeros_like(LABELS)
    sample = hand_sample(collapsed, collapsed, 0.0)
    sample['label_free']['features'] = torch.eye(3)[LABELS].permute(2, 0, 1)
    scores = evaluate([sample], affinity_quantile=0.25)
    assert scores['label_free/agreement'] == 1.0  # fooled, as documented
    assert scores['label_free/affinity'] == pytest.approx(0.5)
    assert scores['label_free/silhouette'] == 0.0
    assert scores['label_free/probe_agreement'] == 1.0  # fooled too


def test_labels_are_never_read():
    view = LABELS.flip(-1)
    generator = torch.Generator().manual_seed(0)
    with_noise = [
        hand_sample(
            LABELS,
            view,
            i,
            gt=torch.randint(0, 3, (1, 3, 4), generator=generator),
        )
        for i in range(2)
    ]
    without = [hand_sample(LABELS, view, i) for i in range(2)]
    assert evaluate(with_noise) == evaluate(without)


def test_missing_outputs_and_bad_options_are_named():
    with pytest.raises(KeyError, match='test_cfg.selection'):
        evaluate([dict(img_path='x.png')])
    with pytest.raises(ValueError, match='unknown label-free scores'):
        LabelFreeScoreMetric(scores=('miou',))
    sample = hand_sample(LABELS, LABELS, 0.0)
    sample['label_free']['view_names'] = []
    sample['label_free']['view_probs'] = torch.zeros(0, 3, 3, 4)
    with pytest.raises(ValueError, match='selection.views'):
        evaluate([sample])
