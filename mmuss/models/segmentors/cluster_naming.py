# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict

from mmuss.models.utils.cluster_mapping import ClusterMapping


class ClusterNamingMixin:
    """Names of an unsupervised segmentor's predictions, for inference.

    mmseg's inference entry points (``init_model``, ``MMSegInferencer``,
    ``show_result_pyplot``) set ``model.dataset_meta`` from the
    checkpoint's dataset and paint ``pred_sem_seg`` with its class names.
    For a segmentor that predicts clusters this mixin makes
    ``dataset_meta`` describe what ``pred_sem_seg`` actually holds:

    - with a cluster-to-class mapping (:class:`ClusterMapping`, restored
      from the state dict), ``pred_sem_seg`` is relabelled as classes
      (:meth:`relabel_clusters`) and ``dataset_meta`` names them;
    - without one, ``dataset_meta`` names ``'cluster k'``; the dataset's
      classes set by the caller are kept for class-valued outputs (the
      linear probe, :attr:`class_meta`).

    ``dataset_meta`` only ever holds ``classes`` and ``palette`` (what
    mmseg's visualizer accepts). The host builds ``self.cluster_mapping``
    with :meth:`_init_cluster_mapping` and calls :meth:`relabel_clusters`
    on its predictions.
    """

    def _init_cluster_mapping(self, num_clusters: int) -> None:
        self.cluster_mapping = ClusterMapping(num_clusters)
        self.__dict__['_given_dataset_meta'] = None

    @property
    def dataset_meta(self) -> Dict:
        """``classes`` and ``palette`` of ``pred_sem_seg``."""
        return self.cluster_mapping.label_meta()

    @dataset_meta.setter
    def dataset_meta(self, meta: Dict | None) -> None:
        # Stored outside nn.Module's attribute machinery (a plain dict).
        self.__dict__['_given_dataset_meta'] = dict(meta or {})

    @property
    def class_meta(self) -> Dict:
        """``classes`` and ``palette`` of class-valued outputs (the linear
        probe's ``pred_linear_sem_seg``)."""
        return ClusterMapping.class_meta(
            self.cluster_mapping.record,
            self.__dict__.get('_given_dataset_meta'),
            self.num_classes,
        )

    def relabel_clusters(self, samples: list) -> list:
        """Apply the cluster-to-class mapping to predicted samples."""
        for sample in samples:
            self.cluster_mapping.relabel(sample)
        return samples
