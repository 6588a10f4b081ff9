# Copyright (c) mmuss contributors. All rights reserved.
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Tuple

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, SampleList
from torch import Tensor


class BaseCodeHead(BaseDecodeHead, metaclass=ABCMeta):
    """Base of the mmuss method heads: frozen features in, codes out.

    An unsupervised segmentation head maps the frozen backbone features to a
    dense *code* (B, D, h, w). It is an mmseg decode head (same
    ``in_channels``/``in_index``/``input_transform`` conventions, registered
    in ``MODELS``), but it predicts no classes itself: the segmentor's cluster
    probe turns codes into clusters and the optional linear probe into
    classes. ``channels`` is the code dimension D; mmseg's ``num_classes`` and
    ``conv_seg`` have no meaning here and ``conv_seg`` is removed.

    Subclasses implement :meth:`forward` and, if they train, override
    :meth:`loss_by_codes`. The data samples they receive never carry
    ground-truth labels (the segmentor strips them).

    A head whose loss needs other images than the batch's (e.g. STEGO's
    nearest-neighbour positives) lists the data-sample fields holding them in
    ``required_views``; the segmentor runs the frozen backbone on them and
    passes the features to :meth:`loss_by_codes` as ``views``.

    A head that reads pixels lists them in ``required_inputs``: ``'image'``
    (the normalised image) and the names of dense maps stacked onto it
    (:class:`~mmuss.datasets.transforms.LoadDenseMap`, e.g. ``'depth'``).
    The segmentor passes them, at the input resolution, as ``dense_inputs``
    to :meth:`loss_by_codes` in training and to :meth:`compute_codes` in
    training and at test time (whole and sliding-window inference, flip
    augmentation: they are cropped and flipped with the image).

    Args:
        in_channels (int | Sequence[int]): Feature channels.
        channels (int): Code dimension D.
        dropout_ratio (float): Ratio of the ``Dropout2d`` available to
            subclasses as ``self.dropout``. Defaults to 0.
        **kwargs: Other :class:`BaseDecodeHead` arguments.
    """

    required_views: Tuple[str, ...] = ()
    required_inputs: Tuple[str, ...] = ()

    def __init__(
        self,
        in_channels,
        channels: int,
        dropout_ratio: float = 0.0,
        init_cfg: dict | None = None,
        **kwargs,
    ) -> None:
        kwargs.pop('num_classes', None)
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            num_classes=channels,
            dropout_ratio=dropout_ratio,
            loss_decode=[],
            init_cfg=init_cfg,
            **kwargs,
        )
        del self.conv_seg

    @abstractmethod
    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Codes (B, D, h, w) of the backbone outputs ``inputs``."""

    @property
    def num_clusters(self) -> Optional[int]:
        """Clusters K the head predicts itself (its prototypes), used with
        the segmentor's ``cluster_source='head'``; None for heads that only
        produce codes for the cluster probe."""
        return None

    def cluster_logits(self, codes: Tensor) -> Tensor:
        """Cluster scores (B, K, h, w) of codes, for heads with
        :attr:`num_clusters`. Their softmax is the head's prediction
        probability: what test-time averaging and the dense CRF refine.

        Raises:
            TypeError: For heads that predict no clusters.
        """
        raise TypeError(
            f'{type(self).__name__} predicts no clusters (num_clusters is '
            'None); use the cluster probe (cluster_source="probe")'
        )

    def compute_codes(
        self,
        inputs: List[Tensor],
        dense_inputs: Optional[Dict[str, Tensor]] = None,
    ) -> Tensor:
        """Codes of the backbone outputs, for heads that also read pixels.

        The segmentor's entry point. Defaults to :meth:`forward`; a head
        whose codes depend on its ``required_inputs`` overrides this.

        Args:
            inputs (list[Tensor]): The frozen backbone outputs.
            dense_inputs (dict[str, Tensor], optional): The
                ``required_inputs`` (B, c, H, W), normalised.
        """
        return self.forward(inputs)

    def loss_by_codes(
        self,
        codes: Tensor,
        inputs: List[Tensor],
        batch_data_samples: SampleList,
        train_cfg: ConfigType,
        views: Optional[Dict[str, List[Tensor]]] = None,
        dense_inputs: Optional[Dict[str, Tensor]] = None,
    ) -> Dict[str, Tensor]:
        """The method's unsupervised losses.

        Args:
            codes (Tensor): Output of :meth:`forward` (with gradient).
            inputs (list[Tensor]): The frozen backbone outputs.
            batch_data_samples (list[SegDataSample]): Samples without
                ground-truth labels.
            train_cfg (dict): The segmentor's ``train_cfg``.
            views (dict[str, list[Tensor]], optional): Frozen backbone
                outputs of each field in ``required_views``.
            dense_inputs (dict[str, Tensor], optional): Each name of
                ``required_inputs``, (B, c, H, W) at the input resolution.

        Returns:
            dict[str, Tensor]: Losses, keys containing ``'loss'``. Empty for a
            head that does not train.
        """
        return dict()

    def loss(
        self,
        inputs: List[Tensor],
        batch_data_samples: SampleList,
        train_cfg: ConfigType,
    ) -> Dict[str, Tensor]:
        """mmseg's head interface: forward, then :meth:`loss_by_codes`.

        Heads with ``required_views`` need the segmentor, which computes
        the views' features.
        """
        if self.required_views or self.required_inputs:
            raise RuntimeError(
                f'{type(self).__name__} needs the views '
                f'{self.required_views} and inputs {self.required_inputs}; '
                'train it inside UnsupervisedEncoderDecoder'
            )
        return self.loss_by_codes(
            self.forward(inputs), inputs, batch_data_samples, train_cfg
        )

    def predict(
        self,
        inputs: List[Tensor],
        batch_img_metas: List[dict],
        test_cfg: ConfigType,
    ) -> Tensor:
        """Codes of ``inputs``; the segmentor applies the probes."""
        return self.forward(inputs)
