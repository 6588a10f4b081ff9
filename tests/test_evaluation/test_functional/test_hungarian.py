# Copyright (c) mmuss contributors. All rights reserved.
import itertools

import numpy as np
import pytest
import torch

from mmuss.evaluation.functional import (
    confusion_matrix,
    hungarian_assignment,
    hungarian_scores,
    resolve_extra_clusters,
    segmentation_scores,
)


def brute_force_best_injection(hist):
    """Best one-to-one class->cluster map by enumerating all injections."""
    num_clusters, num_classes = hist.shape
    best, best_map = -1, None
    for clusters in itertools.permutations(range(num_clusters), num_classes):
        matched = sum(hist[k, c] for c, k in enumerate(clusters))
        if matched > best:
            best, best_map = matched, clusters
    return best, best_map


def brute_force_miou(pred_classes, gt, num_classes, ignore_index=255):
    """mIoU and pixel accuracy by direct set counting."""
    valid = gt != ignore_index
    ious = []
    for c in range(num_classes):
        p = (pred_classes == c) & valid
        g = (gt == c) & valid
        union = (p | g).sum()
        if union:
            ious.append((p & g).sum() / union)
    acc = ((pred_classes == gt) & valid).sum() / valid.sum()
    return float(np.mean(ious)), float(acc)


def test_confusion_matrix_counts_pixels():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 4, (5, 7))
    gt = rng.integers(0, 3, (5, 7))
    gt[0, :3] = 255
    hist = confusion_matrix(
        torch.from_numpy(pred), torch.from_numpy(gt), 4, 3
    ).numpy()
    expected = np.zeros((4, 3), dtype=np.int64)
    for p, g in zip(pred.ravel(), gt.ravel()):
        if g != 255:
            expected[p, g] += 1
    np.testing.assert_array_equal(hist, expected)
    assert hist.sum() == 35 - 3


def test_confusion_matrix_rejects_out_of_range():
    with pytest.raises(ValueError, match=r'ground-truth values \[5\]'):
        confusion_matrix(
            torch.zeros(2, 2), torch.tensor([[0, 5], [1, 2]]), 3, 3
        )
    with pytest.raises(ValueError, match=r'cluster ids \[3\]'):
        confusion_matrix(torch.tensor([[0, 3]]), torch.tensor([[0, 1]]), 3, 3)
    with pytest.raises(ValueError, match='shape'):
        confusion_matrix(torch.zeros(2, 2), torch.zeros(2, 3), 3, 3)


@pytest.mark.parametrize('shape', [(4, 4), (5, 3), (6, 4)])
def test_hungarian_assignment_matches_brute_force(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        hist = rng.integers(0, 100, shape)
        mapping = hungarian_assignment(hist)
        matched = sum(hist[k, c] for k, c in enumerate(mapping) if c >= 0)
        best, _ = brute_force_best_injection(hist)
        assert matched == best
        assert sorted(c for c in mapping if c >= 0) == list(range(shape[1]))
        assert (mapping < 0).sum() == shape[0] - shape[1]


def test_hungarian_assignment_needs_enough_clusters():
    with pytest.raises(ValueError, match='2 clusters cannot be matched'):
        hungarian_assignment(np.ones((2, 3)))


def test_scores_equal_brute_force_on_permuted_prediction():
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 4, (20, 20))
    gt[:2] = 255
    permutation = np.array([2, 0, 3, 1])  # class c is predicted as cluster
    pred = permutation[gt.clip(0, 3)]
    noise = rng.random(gt.shape) < 0.2
    pred[noise] = rng.integers(0, 4, noise.sum())
    hist = confusion_matrix(
        torch.from_numpy(pred), torch.from_numpy(gt), 4, 4
    ).numpy()
    scores = hungarian_scores(hist)
    mapping = scores['assignment']
    np.testing.assert_array_equal(mapping[permutation], np.arange(4))
    miou, acc = brute_force_miou(mapping[pred], gt, 4)
    assert scores['mIoU'] == pytest.approx(miou)
    assert scores['aAcc'] == pytest.approx(acc)


def test_segmentation_scores_hand_computed():
    # rows: predicted class, columns: ground truth
    class_hist = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    scores = segmentation_scores(class_hist)
    # IoU0 = 5 / (6 + 7 - 5), IoU1 = 3 / (5 + 4 - 3); class 2 absent
    assert scores['IoU'][0] == pytest.approx(5 / 8)
    assert scores['IoU'][1] == pytest.approx(3 / 6)
    assert np.isnan(scores['IoU'][2])
    assert scores['mIoU'] == pytest.approx((5 / 8 + 3 / 6) / 2)
    assert scores['aAcc'] == pytest.approx(8 / 11)
    assert scores['mAcc'] == pytest.approx((5 / 7 + 3 / 4) / 2)


def test_class_predicted_but_absent_from_gt_counts_as_zero_iou():
    class_hist = np.array([[4, 0], [1, 0]])  # class 1 predicted, never true
    scores = segmentation_scores(class_hist)
    assert scores['IoU'][1] == 0
    assert scores['mIoU'] == pytest.approx((4 / 5 + 0) / 2)


def over_clustered_hist():
    # 4 clusters, 2 classes; cluster 3 and 0 are matched, 1 and 2 are extra
    return np.array(
        [
            [10, 2],  # cluster 0 -> class 0 (matched)
            [6, 1],  # cluster 1, majority class 0
            [1, 3],  # cluster 2, majority class 1
            [0, 12],  # cluster 3 -> class 1 (matched)
        ]
    )


def test_extra_cluster_policy_majority():
    scores = hungarian_scores(over_clustered_hist(), 'majority')
    np.testing.assert_array_equal(scores['assignment'], [0, 0, 1, 1])
    # class 0 predicted: 10+2+6+1 = 19 px, 16 correct; class 1: 16 px, 15
    assert scores['aAcc'] == pytest.approx(31 / 35)
    iou0 = 16 / (19 + 17 - 16)
    iou1 = 15 / (16 + 18 - 15)
    assert scores['mIoU'] == pytest.approx((iou0 + iou1) / 2)


def test_extra_cluster_policy_drop():
    scores = hungarian_scores(over_clustered_hist(), 'drop')
    np.testing.assert_array_equal(scores['assignment'], [0, -2, -2, 1])
    assert scores['dropped_pixels'] == 11
    assert scores['aAcc'] == pytest.approx(22 / 24)
    iou0 = 10 / (12 + 10 - 10)
    iou1 = 12 / (12 + 14 - 12)
    assert scores['mIoU'] == pytest.approx((iou0 + iou1) / 2)


def test_extra_cluster_policy_error():
    scores = hungarian_scores(over_clustered_hist(), 'error')
    np.testing.assert_array_equal(scores['assignment'], [0, -1, -1, 1])
    assert scores['aAcc'] == pytest.approx(22 / 35)
    iou0 = 10 / (12 + 17 - 10)
    iou1 = 12 / (12 + 18 - 12)
    assert scores['mIoU'] == pytest.approx((iou0 + iou1) / 2)


def test_extra_cluster_policy_stego_drops_high_indices():
    # STEGO removes pixels of clusters with index >= C before matching: here
    # clusters 2 and 3; cluster 1 then matches class 1.
    scores = hungarian_scores(over_clustered_hist(), 'stego')
    np.testing.assert_array_equal(scores['assignment'], [0, 1, -2, -2])
    assert scores['dropped_pixels'] == 16
    assert scores['aAcc'] == pytest.approx(11 / 19)


def test_policies_agree_without_extra_clusters():
    hist = np.random.default_rng(3).integers(0, 50, (4, 4))
    results = [
        hungarian_scores(hist, p)['mIoU']
        for p in ('majority', 'drop', 'error', 'stego')
    ]
    assert np.allclose(results, results[0])


def test_unknown_policy():
    with pytest.raises(ValueError, match='extra_cluster_policy'):
        resolve_extra_clusters(np.ones((2, 2)), np.array([0, 1]), 'vote')


def test_fixed_assignment_is_identity_for_linear_probe():
    hist = np.array([[5, 1], [2, 7]])
    scores = hungarian_scores(hist, cluster_to_class=[0, 1])
    assert scores['aAcc'] == pytest.approx(12 / 15)
    swapped = hungarian_scores(
        np.array([[1, 5], [7, 2]]), cluster_to_class=[0, 1]
    )
    assert swapped['aAcc'] == pytest.approx(3 / 15)


def upstream_stego_miou(hist, assignment=None):
    """Upstream UnsupervisedMetrics.compute (extra_clusters > 0), written
    out: histogram rows of the matched clusters per class, an "Extra" row
    of the unmatched ones and a zero column, IoU over all non-NaN
    entries."""
    hist = np.asarray(hist, dtype=np.float64)
    num_clusters, num_classes = hist.shape
    stats = hist.copy()
    stats[num_classes:] = 0  # update() masks preds >= n_classes
    if assignment is None:
        from scipy.optimize import linear_sum_assignment

        _, matched = linear_sum_assignment(stats.T, maximize=True)
    else:
        matched = np.array(assignment)
    histogram = stats[matched]
    missing = sorted(set(range(num_clusters)) - set(matched.tolist()))
    histogram = np.vstack([histogram, stats[missing].sum(0, keepdims=True)])
    histogram = np.hstack([histogram, np.zeros((num_classes + 1, 1))])
    tp = np.diag(histogram)
    fp = histogram.sum(0) - tp
    fn = histogram.sum(1) - tp
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = tp / (tp + fp + fn)
    return np.nanmean(iou), tp.sum() / histogram.sum()


def test_stego_policy_extra_row_enters_the_mean_with_iou_zero():
    # C = 2, K = 3: clusters 0 and 2 matched (cluster 2's index >= C, so
    # its pixels are dropped), cluster 1 (index < C) left unmatched while
    # holding pixels: upstream's "Extra" row adds IoU 0 to the mean.
    hist = np.array([[8, 1], [3, 2], [0, 6]])
    scores = hungarian_scores(hist, 'stego', cluster_to_class=[0, -1, 1])
    # class 0: tp 8, predicted 9, labelled 11; class 1: nothing predicted
    iou0 = 8 / (9 + 11 - 8)
    assert scores['mIoU'] == pytest.approx((iou0 + 0 + 0) / 3)
    expected_miou, expected_acc = upstream_stego_miou(hist, assignment=[0, 2])
    assert scores['mIoU'] == pytest.approx(expected_miou)
    assert scores['aAcc'] == pytest.approx(expected_acc)


def test_stego_policy_matches_upstream_on_random_histograms():
    rng = np.random.default_rng(0)
    for _ in range(200):
        num_classes = int(rng.integers(2, 5))
        hist = rng.integers(0, 20, (num_classes + 2, num_classes))
        hist[rng.random(hist.shape) < 0.3] = 0
        scores = hungarian_scores(hist, 'stego')
        expected_miou, expected_acc = upstream_stego_miou(hist)
        assert scores['mIoU'] == pytest.approx(expected_miou, nan_ok=True)
        assert scores['aAcc'] == pytest.approx(expected_acc, nan_ok=True)
