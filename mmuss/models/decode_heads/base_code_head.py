# Copyright (c) mmuss contributors. All rights reserved.
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Tuple

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from .head_inputs import HeadInputs


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

    A head declares what it needs beyond the backbone outputs; the
    segmentor hands it over in one :class:`HeadInputs` object, to
    :meth:`compute_codes` (training and test time) and :meth:`loss_by_codes`
    (training):

    - ``required_views``: data-sample fields holding other images (e.g.
      STEGO's nearest-neighbour positives) or names of the segmentor's
      view generators; the frozen backbone's outputs on them arrive as
      ``views`` (training).
    - ``required_inputs``: ``'image'`` (the normalised image),
      ``'pixels'`` (the image in pixel values, 0-255 in the model's channel
      order, for heads that work on colours) and names of dense maps
      stacked onto it
      (:class:`~mmuss.datasets.transforms.LoadDenseMap`, e.g. ``'depth'``),
      as ``dense_inputs`` at the input resolution, in training and at test
      time (whole and sliding-window inference, flip and generated-view
      augmentation: they are cropped and flipped with the image).
    - ``required_modalities``: names of aligned modality images stacked onto
      the image (:class:`~mmuss.datasets.transforms.LoadModality`, e.g.
      ``'hha'``); the frozen backbone runs once per modality and its outputs
      arrive as ``modality_feats``, in training and at test time.

    Per-sample meta information (``img_metas``) is always there.

    A head that predicts clusters itself (prototypes) declares
    :attr:`num_clusters` and implements :meth:`cluster_logits`, whose
    softmax is the probability that test-time averaging and the dense CRF
    refine.

    Args:
        in_channels (int | Sequence[int]): Feature channels.
        channels (int): Code dimension D.
        dropout_ratio (float): Ratio of the ``Dropout2d`` available to
            subclasses as ``self.dropout``. Defaults to 0.
        **kwargs: Other :class:`BaseDecodeHead` arguments.
    """

    required_views: Tuple[str, ...] = ()
    required_inputs: Tuple[str, ...] = ()
    required_modalities: Tuple[str, ...] = ()
    #: How the label-free held-out objective (issue 20) stands in for a
    #: data-sample view the validation samples lack: ``{field: rule}``
    #: with the rules of ``test_cfg.selection.missing_views``
    #: (``'nearest'`` other image, for KNN positives, the default;
    #: ``'self'``, the image itself, for augmented copies).
    view_stand_ins: Dict[str, str] = {}
    #: True for a head whose prediction needs more than its codes (the
    #: inputs it declares, e.g. MSSSeg's depth through its decoder): with
    #: ``cluster_source='head'`` the segmentor then asks it for
    #: :meth:`cluster_logits_from_inputs` at the code resolution.
    predicts_from_inputs: bool = False
    #: Names of the segmentor's view generators whose frozen-backbone
    #: features the head receives at test time (``HeadInputs.test_views``,
    #: in order; repeat a name for several random draws), for heads that
    #: average over views inside their prediction (MSSSeg's StructAug TTA
    #: before its decoder).
    test_views: Tuple[str, ...] = ()

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

    def cluster_logits_from_inputs(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Tensor:
        """Cluster log-probabilities (B, K, h, w) at the code resolution
        from the codes and everything the head declares, for heads with
        :attr:`predicts_from_inputs`; defaults to :meth:`cluster_logits`.
        The segmentor averages them over flips (as log-probabilities),
        resizes them to the output size and renormalises them."""
        return self.cluster_logits(codes)

    def compute_codes(self, head_inputs: HeadInputs) -> Tensor:
        """Codes (B, D, h, w): the segmentor's entry point, in training and
        at test time.

        Defaults to :meth:`forward` on the backbone outputs; a head whose
        codes depend on what it declares (``required_inputs``,
        ``required_modalities``) overrides this.

        Args:
            head_inputs (HeadInputs): The backbone outputs and the declared
                inputs of the batch, crop or view being coded.
        """
        return self.forward(head_inputs.feats)

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """The method's unsupervised losses.

        Args:
            codes (Tensor): Output of :meth:`compute_codes` (with gradient).
            head_inputs (HeadInputs): The backbone outputs, the samples
                without ground-truth labels, ``train_cfg`` and every input
                the head declares.

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
        """mmseg's head interface: codes, then :meth:`loss_by_codes`.

        Heads that declare views, inputs or modalities need the segmentor,
        which computes them.
        """
        declared = (
            self.required_views
            or self.required_inputs
            or self.required_modalities
        )
        if declared:
            raise RuntimeError(
                f'{type(self).__name__} needs the views '
                f'{self.required_views}, inputs {self.required_inputs} and '
                f'modalities {self.required_modalities}; train it inside '
                'UnsupervisedEncoderDecoder'
            )
        head_inputs = HeadInputs(
            feats=inputs,
            img_metas=[sample.metainfo for sample in batch_data_samples],
            data_samples=batch_data_samples,
            train_cfg=train_cfg,
        )
        return self.loss_by_codes(self.compute_codes(head_inputs), head_inputs)

    def predict(
        self,
        inputs: List[Tensor],
        batch_img_metas: List[dict],
        test_cfg: ConfigType,
    ) -> Tensor:
        """Codes of ``inputs``; the segmentor applies the probes."""
        return self.forward(inputs)
