# Copyright (c) mmuss contributors. All rights reserved.
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Sequence

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmseg.registry import METRICS
from prettytable import PrettyTable

from mmuss.evaluation.functional import (
    EXTRA_CLUSTER_POLICIES,
    confusion_matrix,
    hungarian_scores,
)
from mmuss.utils.label_checks import check_label_values
from mmuss.visualization import (
    append_legend,
    legend_entries,
    render_segmentation_panel,
)

VIS_MIN_HEIGHT = 256


@METRICS.register_module()
class HungarianIoUMetric(BaseMetric):
    """Hungarian-matched pixel accuracy and mIoU of cluster predictions.

    The evaluation of unsupervised semantic segmentation (IIC, STEGO and the
    papers built on it): a K x C confusion matrix between predicted clusters
    (``pred_sem_seg``) and ground-truth classes is accumulated over the whole
    evaluation set, across all ranks; one global one-to-one assignment
    maximising the matched pixels (``scipy.optimize.linear_sum_assignment``)
    maps clusters to classes; the mapped prediction is scored with pixel
    accuracy ``aAcc``, ``mIoU`` (classes absent from both ground truth and
    prediction are skipped) and ``mAcc``. Pixels whose ground truth is
    ``ignore_index`` are excluded.

    With K > C, ``extra_cluster_policy`` says what the unmatched clusters
    stand for (see :func:`mmuss.evaluation.functional.resolve_extra_clusters`):
    ``'majority'`` (default; each takes its majority class), ``'drop'``
    (their pixels are not scored), ``'error'`` (their pixels count as wrong)
    or ``'stego'`` (the upstream code: pixels of clusters with index >= C are
    dropped before matching, other unmatched clusters count as wrong).

    When samples carry ``pred_linear_sem_seg`` (the supervised linear probe),
    the same scores are reported for it with the identity assignment under
    ``linear_*`` keys; they are an upper bound, not an unsupervised result.

    The per-class table and the cluster-to-class assignment are logged. With
    ``output_dir`` set, the main process also writes ``hungarian_metrics.json``
    (scores, per-class IoU, assignment, confusion matrix) and pictures
    ``vis/<name>.png`` (image | ground truth | matched prediction | legend
    of the class names shown) of the first ``num_vis_samples`` samples.
    Predictions of a model that already carries a cluster-to-class mapping
    are matched from their clusters (``pred_cluster_sem_seg``).

    Args:
        ignore_index (int): Ground-truth value to skip. Defaults to 255.
        num_clusters (int, optional): K. Defaults to the channel count of the
            samples' ``seg_logits``.
        extra_cluster_policy (str): Handling of unmatched clusters when
            K > C. Defaults to ``'majority'``.
        output_dir (str, optional): Folder for the JSON report and pictures.
        num_vis_samples (int): Number of pictures. Defaults to 8.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.
    """

    def __init__(
        self,
        ignore_index: int = 255,
        num_clusters: int | None = None,
        extra_cluster_policy: str = 'majority',
        output_dir: str | None = None,
        num_vis_samples: int = 8,
        collect_device: str = 'cpu',
        prefix: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if extra_cluster_policy not in EXTRA_CLUSTER_POLICIES:
            raise ValueError(
                f'extra_cluster_policy must be one of '
                f'{EXTRA_CLUSTER_POLICIES}, got '
                f'{extra_cluster_policy!r}'
            )
        self.ignore_index = ignore_index
        self.num_clusters = num_clusters
        self.extra_cluster_policy = extra_cluster_policy
        self.output_dir = output_dir
        self.num_vis_samples = num_vis_samples
        self._num_vis_kept = 0
        self._warned_no_image = False
        self.last_assignment: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        """Number of ground-truth classes C, from the dataset metainfo."""
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise ValueError(
                'HungarianIoUMetric needs dataset_meta with '
                '"classes"; it is set by the evaluation loop'
            )
        return len(self.dataset_meta['classes'])

    def _sample_num_clusters(self, sample: dict) -> int:
        if self.num_clusters is not None:
            return self.num_clusters
        if 'seg_logits' in sample:
            return int(sample['seg_logits']['data'].shape[0])
        raise ValueError(
            'cannot tell the number of clusters: set '
            'HungarianIoUMetric(num_clusters=K) or keep '
            'seg_logits in the predictions'
        )

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Accumulate per-sample confusion matrices (and a few pictures)."""
        num_classes = self.num_classes
        for index, sample in enumerate(data_samples):
            gt = sample['gt_sem_seg']['data'].squeeze(0).cpu()
            check_label_values(
                gt, num_classes, self.ignore_index, sample.get('seg_map_path')
            )
            # a model that carries a cluster-to-class mapping keeps its
            # clusters in pred_cluster_sem_seg; the metric matches clusters
            pred_key = (
                'pred_cluster_sem_seg'
                if 'pred_cluster_sem_seg' in sample
                else 'pred_sem_seg'
            )
            pred = sample[pred_key]['data'].squeeze(0).cpu()
            num_clusters = self._sample_num_clusters(sample)
            if num_clusters < num_classes:
                raise ValueError(
                    f'{num_clusters} clusters cannot be matched to the '
                    f'{num_classes} classes of the dataset'
                )
            result = dict(
                cluster_hist=confusion_matrix(
                    pred, gt, num_clusters, num_classes, self.ignore_index
                ).numpy()
            )
            if 'pred_linear_sem_seg' in sample:
                linear = sample['pred_linear_sem_seg']['data'].squeeze(0)
                result['linear_hist'] = confusion_matrix(
                    linear.cpu(),
                    gt,
                    num_classes,
                    num_classes,
                    self.ignore_index,
                ).numpy()
            if self._num_vis_kept < self.num_vis_samples:
                vis = self._vis_item(data_batch, index, sample, gt, pred)
                if vis is not None:
                    result['vis'] = vis
                    self._num_vis_kept += 1
            self.results.append(result)

    def _vis_item(
        self,
        data_batch: dict | None,
        index: int,
        sample: dict,
        gt: torch.Tensor,
        pred: torch.Tensor,
    ) -> dict | None:
        """Image (RGB, at the ground-truth size), labels and name.

        The image comes from the batch's ``inputs`` (inside the runner) or,
        when the batch carries none (offline evaluation of saved
        predictions), from the sample's ``img_path``; without either the
        pictures are skipped with one warning.
        """
        image = self._vis_image(data_batch, index, sample, gt.shape)
        if image is None:
            return None
        name = osp.splitext(osp.basename(sample.get('img_path', 'image')))[0]
        return dict(
            name=name,
            image=image,
            gt=gt.numpy().astype(np.uint8),
            pred=pred.numpy().astype(np.int32),
        )

    def _vis_image(
        self,
        data_batch: dict | None,
        index: int,
        sample: dict,
        size: tuple,
    ) -> np.ndarray | None:
        """RGB uint8 picture of a sample at ``size``, or None if unknown."""
        inputs = (data_batch or {}).get('inputs')
        if inputs is not None and index < len(inputs):
            # the colour channels (dense maps may follow them)
            image = inputs[index][:3].float()[None]
            image = F.interpolate(image, size=size, mode='bilinear')[0]
            image = image.round().clamp(0, 255).byte()
            image = image.permute(1, 2, 0).numpy()
            if image.shape[2] == 3:
                image = image[..., ::-1]  # mmcv loads BGR
            return np.ascontiguousarray(image)
        img_path = sample.get('img_path')
        if img_path and osp.isfile(img_path):
            image = mmcv.imread(img_path, channel_order='rgb')
            return mmcv.imresize(image, (size[1], size[0]))
        if not self._warned_no_image:
            print_log(
                'HungarianIoUMetric: the batch has no "inputs" and the '
                f'sample no readable "img_path" ({img_path!r}); pictures '
                'are skipped (num_vis_samples=0 silences this)',
                logger='current',
                level=30,
            )
            self._warned_no_image = True
        return None

    def evaluate(self, size: int) -> dict:
        """Collect from all ranks and score; restart picture selection."""
        self._num_vis_kept = 0
        return super().evaluate(size)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Match clusters to classes over the whole set and score."""
        classes = list(self.dataset_meta['classes'])
        cluster_hist = np.sum([r['cluster_hist'] for r in results], axis=0)
        scores = hungarian_scores(cluster_hist, self.extra_cluster_policy)
        self.last_assignment = scores['assignment']
        metrics = self._summary(scores, '')
        tables = [self._class_table(scores, classes, 'cluster probe')]
        linear_scores = None
        if all('linear_hist' in r for r in results):
            linear_hist = np.sum([r['linear_hist'] for r in results], axis=0)
            linear_scores = hungarian_scores(
                linear_hist, cluster_to_class=np.arange(len(classes))
            )
            metrics.update(self._summary(linear_scores, 'linear_'))
            tables.append(
                self._class_table(linear_scores, classes, 'linear probe')
            )
        for table in tables:
            print_log('\n' + table.get_string(), logger='current')
        print_log(
            'cluster -> class: '
            + ', '.join(
                f'{k}->{classes[c] if c >= 0 else ("error", "drop")[-c - 1]}'
                for k, c in enumerate(scores['assignment'])
            ),
            logger='current',
        )
        if self.output_dir is not None:
            self._write_report(
                metrics, scores, linear_scores, cluster_hist, classes
            )
            self._write_pictures(
                [r['vis'] for r in results if 'vis' in r], scores['assignment']
            )
        return metrics

    @staticmethod
    def _summary(scores: dict, prefix: str) -> Dict[str, float]:
        return OrderedDict(
            (f'{prefix}{key}', round(float(scores[key]) * 100, 2))
            for key in ('aAcc', 'mIoU', 'mAcc')
        )

    @staticmethod
    def _class_table(
        scores: dict, classes: List[str], title: str
    ) -> PrettyTable:
        table = PrettyTable(title=f'per-class results ({title})')
        table.field_names = ['Class', 'IoU', 'Acc']
        for name, iou, acc in zip(classes, scores['IoU'], scores['Acc']):
            table.add_row(
                [
                    name,
                    'n/a' if np.isnan(iou) else round(iou * 100, 2),
                    'n/a' if np.isnan(acc) else round(acc * 100, 2),
                ]
            )
        return table

    def _write_report(
        self,
        metrics: dict,
        scores: dict,
        linear_scores: dict | None,
        hist: np.ndarray,
        classes: List[str],
    ) -> None:
        def per_class(values):
            return {
                name: None if np.isnan(v) else round(float(v) * 100, 2)
                for name, v in zip(classes, values)
            }

        report = dict(
            metrics=dict(metrics),
            extra_cluster_policy=self.extra_cluster_policy,
            per_class_iou=per_class(scores['IoU']),
            assignment=[int(c) for c in scores['assignment']],
            dropped_pixels=int(scores['dropped_pixels']),
            confusion_matrix=hist.tolist(),
            classes=classes,
        )
        if linear_scores is not None:
            report['linear_per_class_iou'] = per_class(linear_scores['IoU'])
        mkdir_or_exist(self.output_dir)
        path = osp.join(self.output_dir, 'hungarian_metrics.json')
        tmp_path = path + '.tmp'
        with open(tmp_path, 'w') as file:
            json.dump(report, file, indent=2)
        os.replace(tmp_path, path)

    def _write_pictures(
        self, items: List[dict], assignment: np.ndarray
    ) -> None:
        palette = self.dataset_meta.get('palette')
        if not items or not palette:
            return
        vis_dir = osp.join(self.output_dir, 'vis')
        mkdir_or_exist(vis_dir)
        for item in items[: self.num_vis_samples]:
            mapped = assignment[item['pred']]
            mapped[mapped < 0] = self.ignore_index
            panel = render_segmentation_panel(
                item['image'], item['gt'], mapped, palette, self.ignore_index
            )
            # Small evaluation crops are enlarged (nearest) to be viewable.
            scale = max(1, VIS_MIN_HEIGHT // panel.shape[0])
            panel = panel.repeat(scale, axis=0).repeat(scale, axis=1)
            shown = np.concatenate([item['gt'].ravel(), mapped.ravel()])
            entries = legend_entries(
                shown,
                self.dataset_meta['classes'],
                palette,
                self.ignore_index,
                unmatched_name='ignored / unmatched',
            )
            panel = append_legend(panel, [(None, entries)])
            mmcv.imwrite(
                panel[..., ::-1], osp.join(vis_dir, f'{item["name"]}.png')
            )
