# Copyright (c) mmuss contributors. All rights reserved.
import zlib
from collections import OrderedDict
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from mmuss.evaluation.functional import (
    affinity_agreement,
    affinity_pair_counts,
    confusion_matrix,
    cosine_kmeans_objective,
    cosine_silhouette,
    fixed_pixel_sample,
    matched_agreement,
    probe_seed_agreement,
)

#: The scores, all "higher is better".
LABEL_FREE_SCORES = (
    'objective',
    'kmeans',
    'silhouette',
    'agreement',
    'affinity',
    'probe_agreement',
)


def sample_seed(img_path: str, seed: int) -> int:
    """Seed of an image's pixel sample: from its path and ``seed`` only,
    so it is the same for every checkpoint and evaluation order."""
    return (zlib.crc32(str(img_path).encode()) + seed) % (2**31)


@METRICS.register_module()
class LabelFreeScoreMetric(BaseMetric):
    """Label-free validation scores for checkpoint and config selection.

    Issue 20: choose checkpoints and hyperparameters of an unsupervised
    segmentation without ground truth. Reads only the ``label_free`` outputs
    the segmentor adds with ``test_cfg.selection``
    (:class:`~mmuss.models.segmentors.label_free_outputs.
    LabelFreeOutputsMixin`), never ``gt_sem_seg``. Every score is "higher is
    better" and reported as ``<prefix>/<name>``:

    - ``objective``: minus the head's own unsupervised loss on the held-out
      images (NaN for heads without one, e.g. the baseline, whose only
      loss is the probe's).
    - ``kmeans``: :func:`cosine_kmeans_objective` of the codes under the
      model's own clusters, on a fixed pixel sample.
    - ``silhouette``: :func:`cosine_silhouette` of the same points (on at
      most ``max_silhouette_points`` of them, a fixed subset).
    - ``agreement``: mean over the perturbations of
      :func:`matched_agreement` between the clusters of the image and of its
      perturbation mapped back, accumulated over the set
      (``agreement_<view>`` each).
    - ``affinity``: :func:`affinity_agreement` with the frozen features'
      cosine affinity, pairs within each image's pixel sample, counts summed
      over the set.
    - ``probe_agreement``: :func:`probe_seed_agreement` of two cosine
      k-means probes (seeds ``seed`` and ``seed + 1``, K the model's
      clusters) fitted on the codes of the pixel sample (at most
      ``max_probe_points`` of them, a fixed subset).

    Args:
        scores (Sequence[str]): Scores to report. Defaults to all.
        pixels_per_image (int): Size of each image's fixed pixel sample (at
            the code resolution). Defaults to 128.
        max_silhouette_points (int): Points of the silhouette (quadratic
            cost). Defaults to 2048.
        affinity_quantile (float): Share of the pixel pairs counted as high
            (and as low) affinity. Defaults to 0.1.
        max_probe_points (int): Points the two probes of
            ``probe_agreement`` are fitted on. Defaults to 4096.
        seed (int): Seed of the pixel samples. Defaults to 0.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str): Prefix of the metric names. Defaults to
            ``'label_free'``.
    """

    default_prefix = 'label_free'

    def __init__(
        self,
        scores: Sequence[str] = LABEL_FREE_SCORES,
        pixels_per_image: int = 128,
        max_silhouette_points: int = 2048,
        affinity_quantile: float = 0.1,
        max_probe_points: int = 4096,
        seed: int = 0,
        collect_device: str = 'cpu',
        prefix: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = [s for s in scores if s not in LABEL_FREE_SCORES]
        if unknown:
            raise ValueError(
                f'unknown label-free scores {unknown}; known: '
                f'{LABEL_FREE_SCORES}'
            )
        if pixels_per_image < 2:
            raise ValueError(
                f'pixels_per_image must be >= 2, got {pixels_per_image}'
            )
        self.scores = tuple(scores)
        self.pixels_per_image = pixels_per_image
        self.max_silhouette_points = max_silhouette_points
        self.affinity_quantile = affinity_quantile
        self.max_probe_points = max_probe_points
        self.seed = seed

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each sample's ``label_free`` outputs to small statistics
        (pixel sample, co-occurrences, pair counts, objective)."""
        for sample in data_samples:
            outputs = sample.get('label_free')
            if outputs is None:
                raise KeyError(
                    'LabelFreeScoreMetric needs the "label_free" outputs in '
                    f'the predictions of {sample.get("img_path", "a sample")}'
                    ': set model.test_cfg.selection=True (or the config '
                    'switch label_free_selection)'
                )
            self.results.append(self._sample_statistics(sample, outputs))

    def _sample_statistics(self, sample: dict, outputs: dict) -> dict:
        probs = outputs['probs']
        num_clusters = probs.shape[0]
        pred = probs.argmax(dim=0).flatten()
        index = fixed_pixel_sample(
            pred.numel(),
            self.pixels_per_image,
            sample_seed(sample.get('img_path', ''), self.seed),
        )
        codes = outputs['codes'].flatten(1).T[index]
        features = outputs['features'].flatten(1).T[index]
        view_hists = {
            name: confusion_matrix(
                pred, view.argmax(dim=0).flatten(), num_clusters, num_clusters
            ).numpy()
            for name, view in zip(outputs['view_names'], outputs['view_probs'])
        }
        return dict(
            codes=codes.half(),
            pred=pred[index],
            view_hists=view_hists,
            pair_counts=np.array(
                affinity_pair_counts(
                    features, pred[index], self.affinity_quantile
                )
            ),
            objective=float(outputs['objective']),
            num_clusters=num_clusters,
        )

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """The scores over the whole set (see the class doc)."""
        metrics = OrderedDict()
        if 'objective' in self.scores:
            metrics['objective'] = -float(
                np.mean([r['objective'] for r in results])
            )
        points = torch.cat([r['codes'] for r in results]).float()
        assignment = torch.cat([r['pred'] for r in results])
        if 'kmeans' in self.scores:
            metrics['kmeans'] = cosine_kmeans_objective(points, assignment)
        if 'silhouette' in self.scores:
            subset = fixed_pixel_sample(
                len(points), self.max_silhouette_points, self.seed
            )
            metrics['silhouette'] = cosine_silhouette(
                points[subset], assignment[subset]
            )
        if 'agreement' in self.scores:
            metrics.update(self._agreements(results))
        if 'affinity' in self.scores:
            counts = np.sum([r['pair_counts'] for r in results], axis=0)
            metrics['affinity'] = affinity_agreement(*counts.tolist())
        if 'probe_agreement' in self.scores:
            subset = fixed_pixel_sample(
                len(points), self.max_probe_points, self.seed
            )
            metrics['probe_agreement'] = probe_seed_agreement(
                points[subset],
                results[0]['num_clusters'],
                seeds=(self.seed, self.seed + 1),
            )
        return metrics

    @staticmethod
    def _agreements(results: List[dict]) -> Dict[str, float]:
        names = list(results[0]['view_hists'])
        if not names:
            raise ValueError(
                'the "agreement" score needs at least one perturbation: set '
                'model.test_cfg.selection.views (e.g. ["flip"])'
            )
        scores = OrderedDict()
        for name in names:
            hist = np.sum([r['view_hists'][name] for r in results], axis=0)
            scores[f'agreement_{name}'] = matched_agreement(hist)
        scores['agreement'] = float(np.mean(list(scores.values())))
        return scores
