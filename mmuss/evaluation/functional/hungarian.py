# Copyright (c) mmuss contributors. All rights reserved.
"""Hungarian-matched evaluation of cluster predictions.

The unsupervised segmentation protocol (IIC, STEGO and every later paper)
accumulates one confusion matrix between predicted clusters and ground-truth
classes over the whole evaluation set, finds one global one-to-one
assignment that maximises the matched pixels, and scores the matched
prediction with pixel accuracy and mean IoU.
"""

from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

EXTRA_CLUSTER_POLICIES = ('majority', 'drop', 'error', 'stego')


def confusion_matrix(
    pred: torch.Tensor,
    gt: torch.Tensor,
    num_clusters: int,
    num_classes: int,
    ignore_index: int = 255,
) -> torch.Tensor:
    """Count pixels per (predicted cluster, ground-truth class) pair.

    Args:
        pred (Tensor): Predicted cluster ids of any shape, values in
            ``[0, num_clusters)``.
        gt (Tensor): Ground-truth class ids of the same shape, values in
            ``[0, num_classes)`` or ``ignore_index``.
        num_clusters (int): Number of clusters K (rows).
        num_classes (int): Number of classes C (columns).
        ignore_index (int): Ground-truth value excluded from the count.
            Defaults to 255.

    Returns:
        Tensor: int64 matrix of shape (K, C); entry ``[k, c]`` is the number
        of pixels predicted as cluster k whose ground truth is class c.
    """
    if pred.shape != gt.shape:
        raise ValueError(
            f'prediction shape {tuple(pred.shape)} differs from '
            f'ground-truth shape {tuple(gt.shape)}'
        )
    pred = pred.reshape(-1).long()
    gt = gt.reshape(-1).long()
    valid = gt != ignore_index
    pred, gt = pred[valid], gt[valid]
    if pred.numel() and (pred.min() < 0 or pred.max() >= num_clusters):
        bad = pred[(pred < 0) | (pred >= num_clusters)].unique().tolist()
        raise ValueError(
            f'predicted cluster ids {bad} are outside [0, {num_clusters})'
        )
    if gt.numel() and (gt.min() < 0 or gt.max() >= num_classes):
        bad = gt[(gt < 0) | (gt >= num_classes)].unique().tolist()
        raise ValueError(
            f'ground-truth values {bad} are outside '
            f'[0, {num_classes}) and not ignore_index '
            f'{ignore_index}'
        )
    counts = torch.bincount(
        pred * num_classes + gt, minlength=num_clusters * num_classes
    )
    return counts.reshape(num_clusters, num_classes)


def hungarian_assignment(hist: np.ndarray) -> np.ndarray:
    """Match clusters to classes one-to-one, maximising matched pixels.

    Args:
        hist (np.ndarray): Confusion matrix of shape (K, C) with K >= C,
            rows are clusters and columns classes.

    Returns:
        np.ndarray: int64 array of length K: the class matched to each
        cluster, or -1 for the K - C clusters left unmatched.
    """
    hist = np.asarray(hist)
    num_clusters, num_classes = hist.shape
    if num_clusters < num_classes:
        raise ValueError(
            f'{num_clusters} clusters cannot be matched '
            f'one-to-one to {num_classes} classes; use at '
            'least as many clusters as classes'
        )
    rows, cols = linear_sum_assignment(hist, maximize=True)
    cluster_to_class = np.full(num_clusters, -1, dtype=np.int64)
    cluster_to_class[rows] = cols
    return cluster_to_class


def resolve_extra_clusters(
    hist: np.ndarray, cluster_to_class: np.ndarray, policy: str
) -> np.ndarray:
    """Decide what the clusters without a matched class stand for.

    With K = C every cluster is matched and all policies agree. With K > C
    (over-clustering) the K - C unmatched clusters are handled by ``policy``:

    - ``'majority'``: each unmatched cluster takes the class that most of its
      pixels belong to (many-to-one majority vote); every pixel is scored.
    - ``'drop'``: pixels of unmatched clusters are removed from the
      evaluation (numerator and denominator).
    - ``'error'``: pixels of unmatched clusters are kept and always count as
      wrong (false negatives of their ground-truth class).
    - ``'stego'``: the upstream STEGO code (``UnsupervisedMetrics``): pixels
      predicted as a cluster whose *index* is >= C are removed before the
      matching, the remaining unmatched clusters count as errors, and when
      they hold pixels their "Extra" row adds an IoU of 0 to the mean (as
      upstream; with SciPy's matching, a cluster with index < C that holds
      pixels was never left unmatched in 20,000 random trials, so in
      practice the term is absent).

    Args:
        hist (np.ndarray): Confusion matrix (K, C).
        cluster_to_class (np.ndarray): Output of
            :func:`hungarian_assignment`.
        policy (str): One of ``EXTRA_CLUSTER_POLICIES``.

    Returns:
        np.ndarray: Cluster-to-class map of length K in which -1 marks
        clusters counted as errors and -2 clusters dropped.
    """
    if policy not in EXTRA_CLUSTER_POLICIES:
        raise ValueError(
            f'extra_cluster_policy must be one of '
            f'{EXTRA_CLUSTER_POLICIES}, got {policy!r}'
        )
    mapping = cluster_to_class.copy()
    unmatched = mapping < 0
    if policy == 'majority':
        mapping[unmatched] = np.asarray(hist)[unmatched].argmax(axis=1)
    elif policy == 'drop':
        mapping[unmatched] = -2
    return mapping


def matched_class_histogram(
    hist: np.ndarray, mapping: np.ndarray
) -> Tuple[np.ndarray, int]:
    """Fold a cluster confusion matrix into a class confusion matrix.

    Args:
        hist (np.ndarray): Confusion matrix (K, C).
        mapping (np.ndarray): Cluster-to-class map from
            :func:`resolve_extra_clusters` (-1 error, -2 dropped).

    Returns:
        tuple[np.ndarray, int]: The (C + 1, C) matrix whose row c holds the
        pixels predicted as class c and whose last row holds pixels of
        clusters counted as errors, and the number of dropped pixels.
    """
    hist = np.asarray(hist, dtype=np.int64)
    num_classes = hist.shape[1]
    class_hist = np.zeros((num_classes + 1, num_classes), dtype=np.int64)
    for cluster, target in enumerate(mapping):
        if target >= 0:
            class_hist[target] += hist[cluster]
        elif target == -1:
            class_hist[num_classes] += hist[cluster]
    dropped = int(hist[mapping == -2].sum())
    return class_hist, dropped


def segmentation_scores(class_hist: np.ndarray) -> Dict[str, np.ndarray]:
    """Pixel accuracy and IoU of a class confusion matrix.

    Args:
        class_hist (np.ndarray): (C + 1, C) or (C, C) matrix, rows are
            predicted classes (an optional last row holds unmatched
            predictions), columns ground-truth classes.

    Returns:
        dict: ``aAcc`` (pixel accuracy), ``mIoU`` (mean IoU over classes
        present in the ground truth or the prediction), ``mAcc`` (mean
        per-class recall over classes present in the ground truth), and the
        per-class arrays ``IoU`` and ``Acc`` (NaN where undefined). Values
        are fractions in [0, 1].
    """
    class_hist = np.asarray(class_hist, dtype=np.float64)
    num_classes = class_hist.shape[1]
    tp = np.diag(class_hist[:num_classes])
    predicted = class_hist[:num_classes].sum(axis=1)
    labelled = class_hist.sum(axis=0)
    union = predicted + labelled - tp
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(union > 0, tp / union, np.nan)
        acc = np.where(labelled > 0, tp / labelled, np.nan)
    total = class_hist.sum()
    return dict(
        aAcc=tp.sum() / total if total > 0 else np.nan,
        mIoU=np.nanmean(iou) if np.isfinite(iou).any() else np.nan,
        mAcc=np.nanmean(acc) if np.isfinite(acc).any() else np.nan,
        IoU=iou,
        Acc=acc,
    )


def hungarian_scores(
    hist: np.ndarray,
    policy: str = 'majority',
    cluster_to_class: Sequence[int] | None = None,
) -> Dict[str, object]:
    """Match clusters to classes and score the matched prediction.

    Args:
        hist (np.ndarray): Confusion matrix (K, C) accumulated over the
            whole evaluation set.
        policy (str): What unmatched clusters stand for when K > C, see
            :func:`resolve_extra_clusters`. Defaults to ``'majority'``.
        cluster_to_class (Sequence[int], optional): A fixed assignment to
            use instead of the Hungarian one (e.g. the identity for a
            supervised linear probe).

    Returns:
        dict: The scores of :func:`segmentation_scores` plus ``assignment``
        (the class of each cluster after the policy; -1 error, -2 dropped)
        and ``dropped_pixels``.
    """
    hist = np.asarray(hist, dtype=np.int64)
    num_classes = hist.shape[1]
    if cluster_to_class is None:
        if policy == 'stego':
            matched = _stego_assignment(hist)
        else:
            matched = hungarian_assignment(hist)
    else:
        matched = np.asarray(cluster_to_class, dtype=np.int64)
        if matched.shape != (hist.shape[0],):
            raise ValueError(
                f'cluster_to_class has {matched.shape[0]} '
                f'entries for {hist.shape[0]} clusters'
            )
    mapping = resolve_extra_clusters(hist, matched, policy)
    if policy == 'stego':
        mapping[num_classes:] = -2
    class_hist, dropped = matched_class_histogram(hist, mapping)
    scores = segmentation_scores(class_hist)
    if policy == 'stego' and class_hist[num_classes].sum() > 0:
        # upstream's "Extra" row (the unmatched clusters) enters the mean
        # with IoU 0 when it holds pixels
        iou = scores['IoU']
        scores['mIoU'] = np.append(iou[np.isfinite(iou)], 0.0).mean()
    scores.update(assignment=mapping, dropped_pixels=dropped)
    return scores


def _stego_assignment(hist: np.ndarray) -> np.ndarray:
    """Upstream STEGO's matching: rows of clusters with index >= C zeroed
    (their pixels are masked before the histogram), then
    ``linear_sum_assignment`` on the (C, K) transpose, as upstream calls it
    (the same optimum; ties resolve as upstream's)."""
    num_clusters, num_classes = hist.shape
    matchable = hist.copy()
    matchable[num_classes:] = 0
    classes, clusters = linear_sum_assignment(matchable.T, maximize=True)
    cluster_to_class = np.full(num_clusters, -1, dtype=np.int64)
    cluster_to_class[clusters] = classes
    return cluster_to_class
