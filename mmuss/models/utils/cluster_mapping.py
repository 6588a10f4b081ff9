# Copyright (c) mmuss contributors. All rights reserved.
"""The cluster-to-class mapping that travels with an unsupervised model.

An unsupervised segmentor predicts cluster ids; only the Hungarian matching
of an evaluation (:class:`~mmuss.evaluation.HungarianIoUMetric`) says which
class each cluster stands for. The mapping is kept in the model's state
dict (as the extra state of :class:`ClusterMapping`), so every loader of
the checkpoint (``mmseg.apis.init_model``, ``MMSegInferencer``, the
runner) finds it; inference then relabels clusters as classes. Without a
mapping a cluster is named ``'cluster k'``, never a class name.
"""

import colorsys
import json
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
from mmengine.structures import PixelData

#: Name of cluster k while no mapping is known.
CLUSTER_NAME = 'cluster {}'
#: Label of pixels whose cluster has no class (policies 'drop', 'error').
UNMATCHED_LABEL = 255
#: Legend name of :data:`UNMATCHED_LABEL`.
UNMATCHED_NAME = 'unmatched'


def cluster_names(num_clusters: int) -> List[str]:
    """``['cluster 0', ..., 'cluster K-1']``."""
    return [CLUSTER_NAME.format(k) for k in range(num_clusters)]


def cluster_palette(num_clusters: int) -> List[List[int]]:
    """K distinct RGB colours, hues spread by the golden ratio.

    Deterministic and unrelated to any dataset palette, so a cluster's
    colour never suggests a class.
    """
    palette = []
    for k in range(num_clusters):
        hue = (k * 0.618033988749895) % 1.0
        value = 0.95 if k % 2 == 0 else 0.7
        rgb = colorsys.hsv_to_rgb(hue, 0.75, value)
        palette.append([int(round(c * 255)) for c in rgb])
    return palette


def check_mapping_record(
    record: dict, num_clusters: int | None = None
) -> None:
    """Refuse a malformed mapping record, naming the key at fault.

    A record is ``dict(cluster_to_class=[K ints], classes=[C names],
    palette=[C RGB triples], extra_cluster_policy=str, ...)``; a cluster
    maps to a class index in ``[0, C)`` or to a negative value (-1: counted
    as an error, -2: dropped by the metric), shown as unmatched.

    Raises:
        ValueError: Naming the key and value at fault.
    """
    for key in ('cluster_to_class', 'classes', 'palette'):
        if key not in record:
            raise ValueError(f'cluster mapping lacks the key {key!r}')
    mapping, classes = record['cluster_to_class'], record['classes']
    if len(record['palette']) != len(classes):
        raise ValueError(
            f'cluster mapping has {len(record["palette"])} palette colours '
            f'for {len(classes)} classes'
        )
    if num_clusters is not None and len(mapping) != num_clusters:
        raise ValueError(
            f'cluster mapping "cluster_to_class" has {len(mapping)} entries '
            f'but the model has {num_clusters} clusters'
        )
    bad = [int(c) for c in mapping if int(c) >= len(classes)]
    if bad:
        raise ValueError(
            f'cluster mapping "cluster_to_class" holds class ids {bad} '
            f'outside [0, {len(classes)})'
        )


def encode_mapping_record(record: dict | None) -> torch.Tensor:
    """A record as a uint8 tensor of its JSON text (empty: no mapping).

    One tensor, so the state dict stays loadable with ``weights_only=True``
    and can be broadcast between ranks like any other entry.
    """
    if not record:
        return torch.zeros(0, dtype=torch.uint8)
    text = json.dumps(record, sort_keys=True).encode('utf-8')
    return torch.tensor(list(text), dtype=torch.uint8)


def decode_mapping_record(state: torch.Tensor) -> dict | None:
    """Inverse of :func:`encode_mapping_record`."""
    if state.numel() == 0:
        return None
    return json.loads(bytes(state.cpu().tolist()).decode('utf-8'))


class ClusterMapping(nn.Module):
    """Cluster-to-class assignment of a segmentor, saved with its weights.

    Holds no parameter; its extra state (``<name>._extra_state`` in the
    state dict) is the mapping record of :func:`check_mapping_record`, or
    an empty tensor while no evaluation has matched the clusters.

    Args:
        num_clusters (int): K, the clusters of the unsupervised prediction.
    """

    def __init__(self, num_clusters: int) -> None:
        super().__init__()
        self.num_clusters = num_clusters
        self.record: dict | None = None

    @property
    def is_set(self) -> bool:
        """Whether clusters are matched to classes."""
        return self.record is not None

    def set_record(self, record: dict | None) -> None:
        """Install (or, with None, remove) a mapping record, checked."""
        if record is not None:
            check_mapping_record(record, self.num_clusters)
            record = dict(record)
        self.record = record

    def get_extra_state(self) -> torch.Tensor:
        """The record as JSON bytes (see :func:`encode_mapping_record`)."""
        return encode_mapping_record(self.record)

    def set_extra_state(self, state: torch.Tensor) -> None:
        """Restore the record saved by :meth:`get_extra_state`."""
        self.set_record(decode_mapping_record(state))

    def class_lookup(self) -> torch.Tensor:
        """(K,) long tensor: the class of each cluster, unmatched clusters
        :data:`UNMATCHED_LABEL`."""
        lookup = torch.tensor(self.record['cluster_to_class'])
        lookup[lookup < 0] = UNMATCHED_LABEL
        return lookup.long()

    def relabel(self, sample) -> None:
        """Turn a sample's ``pred_sem_seg`` from clusters into classes.

        The cluster ids move to ``pred_cluster_sem_seg``; ``seg_logits``
        stay the cluster scores. Does nothing without a mapping.
        """
        if not self.is_set:
            return
        clusters = sample.pred_sem_seg.data
        lookup = self.class_lookup().to(clusters.device)
        sample.set_data(
            {
                'pred_cluster_sem_seg': PixelData(data=clusters),
                'pred_sem_seg': PixelData(data=lookup[clusters.long()]),
            }
        )

    def label_meta(self) -> Dict:
        """``classes`` and ``palette`` of the predicted labels.

        With a mapping: the matched classes. Without: ``'cluster k'`` and
        :func:`cluster_palette` (a dataset's class names do not describe
        clusters).
        """
        if self.is_set:
            return dict(
                classes=tuple(self.record['classes']),
                palette=[list(c) for c in self.record['palette']],
            )
        return dict(
            classes=tuple(cluster_names(self.num_clusters)),
            palette=cluster_palette(self.num_clusters),
        )

    @staticmethod
    def class_meta(
        record: dict | None, dataset_meta: dict | None, num_classes: int
    ) -> Dict:
        """``classes`` and ``palette`` of class-valued outputs (the linear
        probe): the mapping's, else ``dataset_meta``'s, else
        ``'class c'`` with the cluster palette."""
        for source in (record, dataset_meta):
            if source and source.get('classes') and source.get('palette'):
                return dict(
                    classes=tuple(source['classes']),
                    palette=[list(c) for c in source['palette']],
                )
        return dict(
            classes=tuple(f'class {c}' for c in range(num_classes)),
            palette=cluster_palette(num_classes),
        )

    def extra_repr(self) -> str:
        return f'num_clusters={self.num_clusters}, set={self.is_set}'


def mapping_record(
    cluster_to_class: Sequence[int],
    classes: Sequence[str],
    palette: Sequence[Sequence[int]],
    extra_cluster_policy: str,
    **source,
) -> dict:
    """Build a checked mapping record from an evaluation's assignment.

    Args:
        cluster_to_class (Sequence[int]): The metric's assignment after its
            extra-cluster policy (-1 error, -2 dropped).
        classes (Sequence[str]): Class names of the evaluation dataset.
        palette (Sequence): Their RGB colours.
        extra_cluster_policy (str): The metric's policy.
        **source: Where it comes from (dataset, split, scores), stored as
            ``source``.

    Returns:
        dict: The record.
    """
    record = dict(
        cluster_to_class=[int(c) for c in cluster_to_class],
        classes=[str(c) for c in classes],
        palette=[[int(v) for v in colour] for colour in palette],
        extra_cluster_policy=str(extra_cluster_policy),
        source=source,
    )
    check_mapping_record(record)
    return record
