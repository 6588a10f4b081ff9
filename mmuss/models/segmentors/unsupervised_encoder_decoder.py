# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import (
    ConfigType,
    OptConfigType,
    OptMultiConfig,
    OptSampleList,
    SampleList,
    add_prefix,
)
from torch import Tensor

from mmuss.models.data_preprocessors import IMAGE_INPUT, PIXELS_INPUT
from mmuss.models.decode_heads.head_inputs import HeadInputs
from mmuss.models.probes.cluster_probe import cosine_cluster_similarity
from mmuss.models.segmentors.cluster_naming import ClusterNamingMixin
from mmuss.models.segmentors.label_free_outputs import LabelFreeOutputsMixin
from mmuss.models.utils import DenseCRF, strip_ground_truth
from mmuss.models.utils.feature_cache import CachedBackbone, FeatureCache
from mmuss.utils.label_checks import check_label_values

#: How ``test_cfg.missing_modality_fill`` replaces a dropped modality.
MISSING_MODALITY_FILLS = ('zeros', 'image')


def check_finite_codes(codes: Tensor, batch_img_metas: List[dict]) -> None:
    """Refuse codes holding NaN or infinity, naming the images.

    A diverged head would otherwise be scored (NaN codes fall into one
    cluster) as if it had produced a segmentation.

    Raises:
        FloatingPointError: Naming the images with non-finite codes.
    """
    finite = torch.isfinite(codes.flatten(1)).all(dim=1)
    if bool(finite.all()):
        return
    bad = torch.nonzero(~finite).flatten().tolist()
    names = [
        str(batch_img_metas[i].get('img_path', f'batch index {i}'))
        if i < len(batch_img_metas)
        else f'batch index {i}'
        for i in bad
    ]
    raise FloatingPointError(
        f'the head produced non-finite codes (NaN or inf) for '
        f'{len(bad)} image(s): {", ".join(names[:10])}; the checkpoint '
        'holds diverged weights or the inputs are corrupt'
    )


@MODELS.register_module()
class UnsupervisedEncoderDecoder(
    ClusterNamingMixin, LabelFreeOutputsMixin, EncoderDecoder
):
    """Frozen backbone, method head, cluster probe: an unsupervised segmentor.

    The shared model of every method in mmuss, following STEGO's structure:

    .. code:: text

        image -> backbone (frozen, eval, no grad) -> [neck] -> head -> codes
        codes.detach() -> cluster probe (cosine k-means, K clusters)
                          -> prediction (cluster ids; Hungarian-matched by
                             the metric)
        codes.detach() -> linear probe (optional, ground-truth trained)
                          -> supervised upper bound, reported apart

    Frozen means: ``requires_grad=False`` on every backbone parameter (so the
    optimizer constructor leaves them out), the backbone stays in eval mode
    while the runner trains, and it runs under ``torch.no_grad`` unless
    ``backbone_grad=True``: then its activations keep the autograd graph,
    so a module that makes the backbone's *input* (a learned view) is
    trained through it, while the backbone weights still get no gradient.

    Inputs may carry dense maps stacked after the image channels
    (:class:`~mmuss.datasets.transforms.LoadDenseMap`, laid out by
    :class:`~mmuss.models.data_preprocessors.USSDataPreProcessor`): the
    backbone (and the feature cache) sees only the image channels; the head
    receives the names it lists in ``required_inputs`` as ``dense_inputs``,
    in training and at test time, cropped and flipped with the image.
    Aligned modality images stacked the same way
    (:class:`~mmuss.datasets.transforms.LoadModality`) are run through the
    frozen backbone once per modality for heads that list them in
    ``required_modalities``. Everything a head sees reaches it as one
    :class:`~mmuss.models.decode_heads.HeadInputs`.

    The head and the cluster probe receive data samples without the
    ``label_fields`` (ground truth), so no label can reach them; only the
    linear probe sees labels. The cluster probe and linear probe are always
    fed detached codes.

    Test time: codes, optionally averaged with the codes of the horizontally
    flipped image (``test_cfg.flip``), are upsampled bilinearly to the input
    size before the probes are applied (``test_cfg.probe_resolution='input'``,
    as STEGO does; ``'feature'`` applies the probes at the code resolution and
    upsamples their outputs, which is cheaper). Whole and sliding-window
    inference come from mmseg's :class:`EncoderDecoder`. The result holds
    ``pred_sem_seg`` (cluster ids), ``seg_logits`` (cluster log-probabilities)
    and, with a linear probe, ``pred_linear_sem_seg`` (class ids).

    Args:
        backbone (dict): Any mmseg / mmpretrain backbone config.
        decode_head (dict): A :class:`BaseCodeHead` config.
        num_classes (int): Number of ground-truth classes C.
        cluster_probe (dict, optional): Cluster probe config; defaults to a
            :class:`ClusterProbe`. ``in_channels`` defaults to the head's code
            dimension and ``num_clusters`` to C. K must be >= C.
        linear_probe (dict, optional): Linear probe config (``in_channels``
            and ``num_classes`` filled in). None disables it.
        cluster_losses (list[dict], optional): Unsupervised losses on the
            model's own cluster probabilities, added to any head (e.g.
            ``dict(type='PHLoss')``): each is called as
            ``loss(probs, reference)`` with ``probs`` (B, K, h, w) the
            softmax of the head's ``cluster_logits`` (``cluster_source=
            'head'``) or of the cluster probe's scores with its centres
            detached, at the code resolution, differentiable in the codes,
            and ``reference`` (B, h, w) their detached argmax. Logged as
            ``cluster_loss.<name>``. Defaults to None.
        neck (dict, optional): Trainable neck between backbone and head.
        freeze_backbone (bool): Defaults to True.
        view_generators (dict, optional): Named views made inside the
            model (:class:`BaseViewGenerator` configs), for heads that list
            them in ``required_views`` and for ``test_cfg.tta_views``.
        backbone_grad (bool): Keep the frozen backbone's autograd graph
            for inputs that require a gradient (the feature cache is
            bypassed for them). Defaults to False (``no_grad``; an input
            that requires a gradient is then an error rather than a
            silently cut gradient path).
        feature_cache (dict, optional): Cache the frozen backbone's outputs
            on disk: ``dict(cache_dir=..., dtype='float16', in_eval=False)``
            (see :class:`FeatureCache`). Training inputs (and deterministic
            views such as KNN images) are looked up by content; images a
            transform marks as random (``random_fields`` metainfo, e.g.
            :class:`PhotometricView`) always run the backbone.
        cluster_source (str): Where the unsupervised prediction comes from:
            ``'probe'`` (default, the cluster probe) or ``'head'`` (the
            head's ``cluster_logits(codes)``, e.g. SmooSeg's teacher
            prototypes; no cluster probe is built).
        label_fields (Sequence[str]): Data-sample fields holding ground
            truth, hidden from the head and cluster probe.
            Defaults to ``('gt_sem_seg',)``.
        train_cfg (dict, optional): Passed to the head's loss.
        test_cfg (dict, optional): ``mode`` ('whole' | 'slide', with
            ``crop_size``/``stride``), ``flip`` (bool; averages codes of
            the image and its mirror, maps included), ``tta_views``
            (names of ``view_generators``: probabilities averaged over the
            image and each view, mapped back by the view's ``invert``;
            dense maps and modalities follow the view's geometry),
            ``probe_resolution`` ('input' | 'feature'), ``refiners``
            (refiner configs applied in order to the cluster
            probabilities with the image, e.g. IL2Vseg's test-time cue,
            before the CRF), ``use_crf`` (bool; dense-CRF refinement at
            the input resolution), ``crf`` (:class:`DenseCRF` arguments),
            ``selection`` (dict or True: add the ``label_free`` outputs the
            label-free selection scores read, see
            :class:`LabelFreeOutputsMixin`; off by default) and
            ``missing_modalities`` with ``missing_modality_fill``
            (modalities replaced at test time, a sensor dropping out: see
            :meth:`drop_missing_modalities`).
        data_preprocessor (dict, optional): ``USSDataPreProcessor`` (or
            mmseg's ``SegDataPreProcessor`` for image-only inputs).
        init_cfg (dict, optional): Initialisation config.
        pretrained (str, optional): Backbone checkpoint, as mmseg's
            ``EncoderDecoder`` takes it (``mmseg.apis.init_model`` passes
            None). Defaults to None.

    Inference: ``dataset_meta`` names ``'cluster k'`` until a
    cluster-to-class mapping is stored in the model (``cluster_mapping``,
    saved in the state dict; ``tools/test.py --save-mapping``); with one,
    ``pred_sem_seg`` holds classes and ``pred_cluster_sem_seg`` the
    clusters (see :class:`ClusterNamingMixin`).
    """

    def __init__(
        self,
        backbone: ConfigType,
        decode_head: ConfigType,
        num_classes: int,
        cluster_probe: OptConfigType = None,
        linear_probe: OptConfigType = None,
        cluster_losses: Optional[List[ConfigType]] = None,
        neck: OptConfigType = None,
        freeze_backbone: bool = True,
        backbone_grad: bool = False,
        view_generators: OptConfigType = None,
        cluster_source: str = 'probe',
        feature_cache: OptConfigType = None,
        label_fields: Sequence[str] = ('gt_sem_seg',),
        train_cfg: OptConfigType = None,
        test_cfg: OptConfigType = None,
        data_preprocessor: OptConfigType = None,
        init_cfg: OptMultiConfig = None,
        pretrained: Optional[str] = None,
    ) -> None:
        super().__init__(
            pretrained=pretrained,
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            train_cfg=train_cfg,
            # mmseg reads test_cfg.mode unguarded: default it to 'whole'
            test_cfg=ConfigDict({'mode': 'whole', **(test_cfg or {})}),
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.num_classes = num_classes
        self.freeze_backbone = freeze_backbone
        self.backbone_grad = backbone_grad
        self.view_generators = nn.ModuleDict(
            {
                name: MODELS.build(generator)
                for name, generator in (view_generators or {}).items()
            }
        )
        self.label_fields = tuple(label_fields)
        code_channels = self.decode_head.channels
        if cluster_source not in ('probe', 'head'):
            raise ValueError(
                'cluster_source must be "probe" or "head", got '
                f'{cluster_source!r}'
            )
        if cluster_source == 'head' and self.decode_head.num_clusters is None:
            raise ValueError(
                f'{type(self.decode_head).__name__} predicts no clusters '
                '(num_clusters is None); use cluster_source="probe"'
            )
        self.cluster_source = cluster_source
        self.cluster_probe = None
        if cluster_source == 'probe':
            self.cluster_probe = MODELS.build(
                {
                    'type': 'ClusterProbe',
                    'in_channels': code_channels,
                    'num_clusters': num_classes,
                    **(cluster_probe or {}),
                }
            )
        self.cluster_losses = nn.ModuleList(
            MODELS.build(cfg) for cfg in (cluster_losses or [])
        )
        self.linear_probe = None
        if linear_probe is not None:
            self.linear_probe = MODELS.build(
                {
                    'in_channels': code_channels,
                    'num_classes': num_classes,
                    **linear_probe,
                }
            )
        self._check_class_counts()
        self._init_cluster_mapping(self.num_clusters)
        self.out_channels = self.num_clusters + (
            num_classes if self.linear_probe is not None else 0
        )
        self._crf = None
        self._refiners = None
        self.feature_cache = None
        if feature_cache is not None:
            if not freeze_backbone:
                raise ValueError(
                    'feature_cache needs freeze_backbone=True: '
                    'a trained backbone changes its features'
                )
            cache_cfg = dict(feature_cache)
            self.cache_in_eval = cache_cfg.pop('in_eval', False)
            self.feature_cache = CachedBackbone(
                self.backbone, FeatureCache(**cache_cfg)
            )
        if freeze_backbone:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    @property
    def num_clusters(self) -> int:
        """Number of clusters K of the unsupervised prediction."""
        if self.cluster_source == 'head':
            return self.decode_head.num_clusters
        return self.cluster_probe.num_clusters

    def _check_class_counts(self) -> None:
        """Fail at build time on inconsistent class counts."""
        if self.num_clusters < self.num_classes:
            raise ValueError(
                f'num_clusters={self.num_clusters} (cluster_source='
                f'{self.cluster_source!r}) is smaller '
                f'than num_classes={self.num_classes}; the Hungarian '
                'matching needs at least one cluster per class'
            )
        if (
            self.linear_probe is not None
            and self.linear_probe.num_classes != self.num_classes
        ):
            raise ValueError(
                f'linear_probe.num_classes={self.linear_probe.num_classes} '
                f'differs from the model num_classes={self.num_classes}'
            )

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        """Build the code head (class counts are set by ``__init__``)."""
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners

    def train(self, mode: bool = True) -> 'UnsupervisedEncoderDecoder':
        """Set train/eval mode, keeping a frozen backbone in eval mode."""
        super().train(mode)
        if self.freeze_backbone:
            # mmpretrain backbones override train() without returning self,
            # so the call is not used as an expression.
            self.backbone.eval()
        return self

    def extract_feat(
        self,
        inputs: Tensor,
        cacheable: bool = True,
        modality: Optional[str] = None,
    ) -> List[Tensor]:
        """Backbone (without gradient when frozen, through the feature cache
        when configured) then optional neck.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W), the image
                channels only (see :meth:`image_inputs`), or one modality's
                channels.
            cacheable (bool): Whether the feature cache may serve them.
            modality (str, optional): The modality ``inputs`` are, when not
                the image (cached under their own keys).
        """
        keep_graph = inputs.requires_grad and torch.is_grad_enabled()
        if keep_graph and self.freeze_backbone and not self.backbone_grad:
            raise ValueError(
                'the backbone inputs require a gradient but the frozen '
                'backbone runs under no_grad, which would cut the gradient '
                'path; set backbone_grad=True on the segmentor'
            )
        use_cache = (
            self.feature_cache is not None
            and cacheable
            and not keep_graph
            and (self.training or self.cache_in_eval)
        )
        if use_cache:
            feats = self.feature_cache(inputs, modality=modality)
        elif self.freeze_backbone and not keep_graph:
            with torch.no_grad():
                feats = self.backbone(inputs)
        else:
            feats = self.backbone(inputs)
        if self.with_neck:
            feats = self.neck(feats)
        return list(feats)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Head losses, cluster-probe loss and optional linear-probe loss.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W).
            data_samples (list[SegDataSample]): Samples; ground truth is used
                only by the linear probe.

        Returns:
            dict[str, Tensor]: ``decode.*`` (the method), ``cluster_probe.*``
            and ``linear_probe.*`` losses.
        """
        head_inputs = self.training_head_inputs(inputs, data_samples)
        codes = self.head_codes(head_inputs)
        losses = add_prefix(
            self.decode_head.loss_by_codes(codes, head_inputs), 'decode'
        )
        losses.update(self.probe_losses(codes.detach(), data_samples))
        losses.update(self.cluster_loss_terms(codes))
        if self.feature_cache is not None:
            cache = self.feature_cache.cache
            lookups = max(cache.hits + cache.misses, 1)
            losses['cache_hit_rate'] = inputs.new_tensor(cache.hits / lookups)
        return losses

    def training_head_inputs(
        self, inputs: Tensor, data_samples: SampleList
    ) -> HeadInputs:
        """Everything the head's codes and loss read from a training batch:
        the frozen features, the samples without ground truth, the declared
        dense inputs, modalities and views (also used by the benchmark
        tools to time a head's loss alone).

        Args:
            inputs (Tensor): Normalised inputs (B, C, H, W).
            data_samples (list[SegDataSample]): The batch's samples.
        """
        self._check_input_layout(inputs, data_samples)
        images = self.image_inputs(inputs)
        unlabelled_samples = strip_ground_truth(
            data_samples, self.label_fields
        )
        head_inputs = self.head_inputs(
            inputs,
            self.extract_feat(images),
            [sample.metainfo for sample in unlabelled_samples],
        )
        head_inputs.data_samples = unlabelled_samples
        head_inputs.train_cfg = self.train_cfg
        head_inputs.views = {
            field: self.generated_view_features(field, inputs)
            if field in self.view_generators
            else self.view_features(data_samples, field, images)
            for field in self.decode_head.required_views
        }
        head_inputs.view_modality_feats = {
            field: self.view_modality_features(data_samples, field, inputs)
            for field in self.decode_head.required_views
            if field not in self.view_generators
            and self.decode_head.required_modalities
        }
        return head_inputs

    def view_features(
        self, data_samples: SampleList, field: str, inputs: Tensor
    ) -> List[Tensor]:
        """Frozen backbone features of extra images carried by the samples.

        Args:
            data_samples (list[SegDataSample]): Samples holding ``field``
                (a ``PixelData`` uint8 image packed like the inputs, e.g.
                ``knn_img`` from :class:`KNNPairDataset`).
            field (str): The data-sample field.
            inputs (Tensor): The batch's preprocessed images; the view must
                have their size.

        Returns:
            list[Tensor]: Backbone (and neck) outputs for the view images.
        """
        view, random = self.view_inputs(data_samples, field, inputs)
        # packed like the inputs: stacked maps go, the backbone sees colour
        return self.extract_feat(self.image_inputs(view), cacheable=not random)

    def view_inputs(
        self, data_samples: SampleList, field: str, inputs: Tensor
    ) -> Tuple[Tensor, bool]:
        """The samples' ``field`` images preprocessed like the inputs (all
        stacked channels kept), and whether a transform marked them random
        (then never cached)."""
        missing = [i for i, s in enumerate(data_samples) if field not in s]
        if missing:
            raise ValueError(
                f'{type(self.decode_head).__name__} needs "{field}" in every '
                f'training sample (missing in {len(missing)} of '
                f'{len(data_samples)}); for "knn_img" wrap the training '
                'dataset in KNNPairDataset, whose file is made by '
                '`python tools/precompute_knn.py CONFIG`'
            )
        images = torch.stack([s.get(field).data for s in data_samples])
        images = self._preprocess_view(images.to(inputs.device))
        if images.shape[-2:] != inputs.shape[-2:]:
            raise ValueError(
                f'"{field}" images are {tuple(images.shape[-2:])} but the '
                f'batch images are {tuple(inputs.shape[-2:])}; give both the '
                'same pipeline'
            )
        random = any(
            field in s.metainfo.get('random_fields', ()) for s in data_samples
        )
        return images, random

    def view_modality_features(
        self, data_samples: SampleList, field: str, inputs: Tensor
    ) -> Dict[str, List[Tensor]]:
        """Frozen backbone outputs of each modality the head lists in
        ``required_modalities``, for the images of a data-sample view
        (e.g. a KNN positive, packed with its own modality images).

        Raises:
            ValueError: If the view images lack the modality channels.
        """
        if not self.decode_head.required_modalities:
            return {}
        view, random = self.view_inputs(data_samples, field, inputs)
        if view.shape[1] != inputs.shape[1]:
            raise ValueError(
                f'"{field}" images have {view.shape[1]} channels but the '
                f'inputs {inputs.shape[1]}: the view must be packed with '
                'its modality images (the same pipeline as the inputs) for '
                f'{type(self.decode_head).__name__} to see its modalities'
            )
        return self.modality_features(view, cacheable=not random)

    def generated_view(self, name: str, inputs: Tensor) -> Tensor:
        """The normalised view ``name`` of the batch's images, made by its
        view generator on pixel values (differentiable, so a learned
        generator trains through the frozen backbone with
        ``backbone_grad=True``)."""
        preprocessor = self.data_preprocessor
        if not hasattr(preprocessor, 'normalize_image'):
            raise TypeError(
                f'view generator {name!r} needs USSDataPreProcessor '
                f'(got {type(preprocessor).__name__}), which maps views '
                'between pixel values and model inputs'
            )
        pixels = preprocessor.denormalize_image(self.image_inputs(inputs))
        view = self.view_generators[name](pixels)
        if view.shape != pixels.shape:
            raise ValueError(
                f'view generator {name!r} returned {tuple(view.shape)} for '
                f'images of {tuple(pixels.shape)}'
            )
        return preprocessor.normalize_image(view)

    def generated_view_features(
        self, name: str, inputs: Tensor
    ) -> List[Tensor]:
        """Frozen backbone features of a generated view (never cached:
        the view may change as its generator trains)."""
        return self.extract_feat(
            self.generated_view(name, inputs), cacheable=False
        )

    def test_view_features(self, inputs: Tensor) -> List[List[Tensor]]:
        """Features of the generated views the head lists in
        ``test_views`` (each name generated once per listing)."""
        names = tuple(getattr(self.decode_head, 'test_views', ()))
        missing = sorted(set(names) - set(self.view_generators))
        if missing:
            raise KeyError(
                f'{type(self.decode_head).__name__}.test_views names '
                f'{missing}, which are not in view_generators '
                f'({list(self.view_generators)})'
            )
        return [self.generated_view_features(name, inputs) for name in names]

    def _preprocess_view(self, images: Tensor) -> Tensor:
        """Views (B, C, H, W) as raw pixels -> the model's inputs, by the
        model's own data preprocessor (colour order, normalisation)."""
        data = dict(
            inputs=list(images),
            data_samples=[SegDataSample() for _ in range(len(images))],
        )
        return self.data_preprocessor(data, training=False)['inputs']

    def _input_layout(self) -> Dict[str, slice] | None:
        """Channel range of each named input, or None for image-only
        preprocessors (mmseg's ``SegDataPreProcessor``)."""
        return getattr(self.data_preprocessor, 'channel_layout', None)

    def image_inputs(self, inputs: Tensor) -> Tensor:
        """The image channels of the inputs: what the backbone sees."""
        layout = self._input_layout()
        if layout is None:
            return inputs
        return inputs[:, layout[IMAGE_INPUT]]

    def head_dense_inputs(self, inputs: Tensor) -> Dict[str, Tensor]:
        """The head's ``required_inputs`` cut from the inputs by name;
        ``'pixels'`` is the image back in pixel values
        (:meth:`pixel_values`)."""
        required = tuple(self.decode_head.required_inputs)
        if not required:
            return {}
        layout = self._input_layout() or {
            IMAGE_INPUT: slice(0, inputs.shape[1])
        }
        missing = [
            name
            for name in required
            if name not in layout and name != PIXELS_INPUT
        ]
        if missing:
            raise ValueError(
                f'{type(self.decode_head).__name__} needs the inputs '
                f'{missing}, which the data preprocessor does not lay out '
                f'(it has {list(layout)} and {PIXELS_INPUT!r}): load them '
                'with LoadDenseMap and declare them in '
                'USSDataPreProcessor(aux_channels=...)'
            )
        return {
            name: (
                inputs[:, layout[name]]
                if name in layout
                else self.pixel_values(inputs)
            )
            for name in required
        }

    def pixel_values(self, inputs: Tensor) -> Tensor:
        """The image channels of the inputs as pixel values (B, 3, H, W),
        in the channel order the model sees (the data preprocessor's
        normalisation undone): what colour-based heads read as
        ``'pixels'``."""
        preprocessor = self.data_preprocessor
        if not hasattr(preprocessor, 'denormalize_image'):
            raise TypeError(
                f'{type(self.decode_head).__name__} needs {PIXELS_INPUT!r}, '
                'which only USSDataPreProcessor provides (got '
                f'{type(preprocessor).__name__})'
            )
        return preprocessor.denormalize_image(self.image_inputs(inputs))

    def _check_input_layout(
        self, inputs: Tensor, data_samples: SampleList
    ) -> None:
        """Fail when the samples' stacked maps differ from the layout the
        data preprocessor declares."""
        layout = self._input_layout()
        expected = [
            (name, span.stop - span.start)
            for name, span in (layout or {}).items()
            if name != IMAGE_INPUT
        ]
        for sample in data_samples:
            stacked = sample.metainfo.get('aux_channels', ())
            stacked = [tuple(entry) for entry in stacked]
            if stacked != expected:
                hint = (
                    ''
                    if 'aux_channels' in sample.metainfo
                    else '; pack the samples with PackUSSInputs, which '
                    'records the stacked maps (PackSegInputs does not)'
                )
                raise ValueError(
                    f'{sample.metainfo.get("img_path", "a sample")} carries '
                    f'the dense maps {stacked} (LoadDenseMap) but the data '
                    f'preprocessor lays out {expected} (USSDataPreProcessor '
                    f'aux_channels): make them agree{hint}'
                )

    def head_inputs(
        self, inputs: Tensor, feats: List[Tensor], img_metas: List[dict]
    ) -> HeadInputs:
        """What the head sees of full inputs whose image features are
        ``feats``: the dense inputs and modality features it declares and
        the samples' meta information."""
        return HeadInputs(
            feats=feats,
            img_metas=list(img_metas),
            dense_inputs=self.head_dense_inputs(inputs),
            modality_feats=self.modality_features(inputs),
        )

    def modality_features(
        self, inputs: Tensor, cacheable: bool = True
    ) -> Dict[str, List[Tensor]]:
        """Frozen backbone outputs of each modality the head lists in
        ``required_modalities``: the backbone runs once per modality, on
        that modality's channels of the inputs. At test time a modality in
        ``test_cfg.missing_modalities`` is replaced first (see
        :meth:`drop_missing_modalities`)."""
        required = tuple(self.decode_head.required_modalities)
        if not required:
            return {}
        head = type(self.decode_head).__name__
        if IMAGE_INPUT in required:
            raise ValueError(
                f'{head} lists {IMAGE_INPUT!r} in required_modalities; the '
                "image's features are always there (HeadInputs.feats)"
            )
        declared = tuple(getattr(self.data_preprocessor, 'modalities', ()))
        missing = [name for name in required if name not in declared]
        if missing:
            raise ValueError(
                f'{head} needs the modalities {missing}, which the data '
                f'preprocessor does not declare (it has {list(declared)}): '
                'load them with LoadModality and declare them in '
                'USSDataPreProcessor(aux_channels=[dict(name=..., '
                'channels=3, modality=True, mean=..., std=...)])'
            )
        layout = self._input_layout()
        if not self.training:
            inputs = self.drop_missing_modalities(inputs)
        return {
            name: self.extract_feat(
                inputs[:, layout[name]], cacheable=cacheable, modality=name
            )
            for name in required
        }

    def drop_missing_modalities(self, inputs: Tensor) -> Tensor:
        """Inputs with the modalities of ``test_cfg.missing_modalities``
        replaced, to evaluate a model when a sensor drops out (not in the
        paper). ``test_cfg.missing_modality_fill``:

        - ``'zeros'`` (default): the sensor delivers a black frame, pixel
          value 0 in every channel (normalised with that modality's mean
          and std);
        - ``'image'``: the RGB-only path, the image's pixel values given in
          the modality's place (normalised with the modality's mean and
          std), so every branch sees the image.
        """
        missing = list(self.test_cfg.get('missing_modalities', ()))
        if not missing:
            return inputs
        fill = self.test_cfg.get('missing_modality_fill', 'zeros')
        if fill not in MISSING_MODALITY_FILLS:
            raise ValueError(
                'test_cfg.missing_modality_fill must be one of '
                f'{MISSING_MODALITY_FILLS}, got {fill!r}'
            )
        declared = list(getattr(self.data_preprocessor, 'modalities', ()))
        unknown = [name for name in missing if name not in declared]
        if unknown:
            raise ValueError(
                f'test_cfg.missing_modalities names {unknown}, which are not '
                f'modalities of the data preprocessor ({declared})'
            )
        preprocessor = self.data_preprocessor
        layout = self._input_layout()
        inputs = inputs.clone()
        for name in missing:
            span = layout[name]
            mean = preprocessor.channel_mean[span]
            std = preprocessor.channel_std[span]
            pixels = (
                torch.zeros_like(inputs[:, span])
                if fill == 'zeros'
                else preprocessor.denormalize_image(inputs)
            )
            inputs[:, span] = (pixels - mean) / std
        return inputs

    def head_codes(self, head_inputs: HeadInputs) -> Tensor:
        """Run the head and check the codes' shape."""
        codes = self.decode_head.compute_codes(head_inputs)
        if codes.dim() != 4:
            shapes = [tuple(f.shape) for f in head_inputs.feats]
            raise ValueError(
                f'{type(self.decode_head).__name__} returned codes of shape '
                f'{tuple(codes.shape)} from backbone outputs {shapes}; '
                'expected (B, D, h, w). Configure the backbone to output '
                'dense feature maps (e.g. out_type="featmap" for mmpretrain '
                'ViTs, gap_before_final_norm=False for ConvNeXt).'
            )
        return codes

    def cluster_probabilities(self, codes: Tensor) -> Tensor:
        """Cluster probabilities (B, K, h, w) of codes, differentiable in the
        codes only: the head's ``cluster_logits`` or the cluster probe's
        ``alpha * cos`` to its detached centres, softmaxed."""
        if self.cluster_source == 'head':
            logits = self.decode_head.cluster_logits(codes)
        else:
            probe = self.cluster_probe
            logits = probe.alpha * cosine_cluster_similarity(
                codes, probe.clusters.detach()
            )
        return logits.softmax(dim=1)

    def cluster_loss_terms(self, codes: Tensor) -> Dict[str, Tensor]:
        """The ``cluster_losses`` on the batch's cluster probabilities and
        their own detached argmax as reference."""
        if not len(self.cluster_losses):
            return {}
        probs = self.cluster_probabilities(codes)
        reference = probs.detach().argmax(dim=1)
        terms = {}
        for loss in self.cluster_losses:
            name = getattr(loss, 'loss_name', type(loss).__name__)
            terms[f'cluster_loss.{name}'] = loss(probs, reference)
        return terms

    def probe_losses(
        self, detached_codes: Tensor, data_samples: SampleList
    ) -> Dict[str, Tensor]:
        """Losses of the cluster probe and, with labels, the linear probe."""
        losses = {}
        if self.cluster_probe is not None:
            losses['cluster_probe.loss'] = self.cluster_probe.loss(
                detached_codes
            )
        if self.linear_probe is not None and all(
            'gt_sem_seg' in sample for sample in data_samples
        ):
            labels = self._stack_checked_labels(data_samples)
            losses['linear_probe.loss'] = self.linear_probe.loss(
                detached_codes, labels
            )
        return losses

    def _stack_checked_labels(self, data_samples: SampleList) -> Tensor:
        """Stack ground-truth maps (B, H, W), failing on values out of
        range with the file name."""
        ignore_index = self.linear_probe.ignore_index
        labels = []
        for sample in data_samples:
            label = sample.gt_sem_seg.data.squeeze(0)
            check_label_values(
                label,
                self.num_classes,
                ignore_index,
                sample.metainfo.get('seg_map_path'),
            )
            labels.append(label)
        return torch.stack(labels).long()

    def test_codes(
        self, inputs: Tensor, img_metas: Optional[List[dict]] = None
    ) -> Tensor:
        """Codes for prediction, averaged with the horizontally flipped
        image's when ``test_cfg.flip`` is set."""
        codes = self._codes_of(inputs, img_metas)
        if self.test_cfg.get('flip', False):
            flipped = self._codes_of(inputs.flip(-1), img_metas)
            codes = (codes + flipped.flip(-1)) / 2
        return codes

    @property
    def head_logits_in_codes(self) -> bool:
        """Whether test-time codes carry the head's own cluster
        log-probabilities after the D code channels (a head with
        ``predicts_from_inputs`` and ``cluster_source='head'``), so that
        flip averaging, sliding windows and generated views treat them
        exactly as codes."""
        return self.cluster_source == 'head' and getattr(
            self.decode_head, 'predicts_from_inputs', False
        )

    def _codes_of(
        self, inputs: Tensor, img_metas: Optional[List[dict]] = None
    ) -> Tensor:
        """Codes of full inputs (image, stacked maps and modalities),
        followed by the head's cluster log-probabilities when
        :attr:`head_logits_in_codes`."""
        feats = self.extract_feat(self.image_inputs(inputs))
        head_inputs = self.head_inputs(inputs, feats, img_metas or [])
        head_inputs.test_views = self.test_view_features(inputs)
        codes = self.head_codes(head_inputs)
        if not self.head_logits_in_codes:
            return codes
        logits = self.decode_head.cluster_logits_from_inputs(
            codes, head_inputs
        )
        expected = (codes.shape[0], self.num_clusters, *codes.shape[2:])
        if tuple(logits.shape) != expected:
            raise ValueError(
                f'{type(self.decode_head).__name__}.cluster_logits_from_'
                f'inputs returned {tuple(logits.shape)}, expected {expected}'
            )
        return torch.cat([codes, logits], dim=1)

    def probe_outputs(self, codes: Tensor, size: Sequence[int]) -> Tensor:
        """Cluster log-probabilities (and linear logits) at ``size``.

        Args:
            codes (Tensor): Codes (B, D, h, w).
            size (Sequence[int]): Output (H, W).

        Returns:
            Tensor: (B, K [+ C], H, W).
        """
        resolution = self.test_cfg.get('probe_resolution', 'input')
        if resolution not in ('input', 'feature'):
            raise ValueError(
                'test_cfg.probe_resolution must be "input" or '
                f'"feature", got {resolution!r}'
            )
        if resolution == 'feature':
            return self._resize(self._apply_probes(codes), size)
        # One image at a time: upsampled codes are D x H x W each.
        return torch.cat(
            [
                self._apply_probes(self._resize(codes[i : i + 1], size))
                for i in range(codes.shape[0])
            ]
        )

    def _apply_probes(self, codes: Tensor) -> Tensor:
        if self.head_logits_in_codes:
            code_dim = codes.shape[1] - self.num_clusters
            codes, head_logits = codes[:, :code_dim], codes[:, code_dim:]
            outputs = [head_logits.log_softmax(dim=1)]
        elif self.cluster_source == 'head':
            outputs = [self.decode_head.cluster_logits(codes)]
        else:
            outputs = [self.cluster_probe(codes)]
        if self.linear_probe is not None:
            outputs.append(self.linear_probe(codes))
        return torch.cat(outputs, dim=1)

    def _resize(self, tensor: Tensor, size: Sequence[int]) -> Tensor:
        return resize(
            tensor,
            size=tuple(size),
            mode='bilinear',
            align_corners=self.align_corners,
            warning=False,
        )

    def encode_decode(
        self, inputs: Tensor, batch_img_metas: List[dict]
    ) -> Tensor:
        """Probe outputs (B, K [+ C], H, W) at the input size."""
        codes = self.test_codes(inputs, batch_img_metas)
        check_finite_codes(codes, batch_img_metas)
        outputs = self.probe_outputs(codes, inputs.shape[2:])
        view_names = list(self.test_cfg.get('tta_views', ()))
        if not view_names:
            return outputs
        missing = [n for n in view_names if n not in self.view_generators]
        if missing:
            raise KeyError(
                f'test_cfg.tta_views names {missing}, which are not in '
                f'view_generators ({list(self.view_generators)})'
            )
        probs = self._output_probabilities(outputs)
        for name in view_names:
            view_inputs = self._with_maps(name, inputs)
            view_codes = self.test_codes(view_inputs, batch_img_metas)
            check_finite_codes(view_codes, batch_img_metas)
            view_outputs = self.probe_outputs(view_codes, inputs.shape[2:])
            probs = probs + self.view_generators[name].invert(
                self._output_probabilities(view_outputs)
            )
        return (probs / (len(view_names) + 1)).clamp_min(1e-8).log()

    def _with_maps(self, name: str, inputs: Tensor) -> Tensor:
        """The normalised view ``name`` of the image followed by the
        inputs' dense maps and modalities, carried through the view's
        geometry (a flip flips them; a colour change leaves them as they
        are)."""
        view = self.generated_view(name, inputs)
        layout = self._input_layout()
        if layout is None:
            return view
        others = inputs[:, layout[IMAGE_INPUT].stop :]
        if not others.shape[1]:
            return view
        others = self.view_generators[name].apply_geometry(others)
        return torch.cat([view, others], dim=1)

    def _output_probabilities(self, outputs: Tensor) -> Tensor:
        """Cluster and linear-probe probabilities of probe outputs."""
        parts = [outputs[:, : self.num_clusters].softmax(dim=1)]
        if outputs.shape[1] > self.num_clusters:
            parts.append(outputs[:, self.num_clusters :].softmax(dim=1))
        return torch.cat(parts, dim=1)

    def predict(
        self, inputs: Tensor, data_samples: OptSampleList = None
    ) -> SampleList:
        """Predict clusters (and linear-probe classes), optionally refined
        by a dense CRF (``test_cfg.use_crf``).

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W).
            data_samples (list[SegDataSample], optional): Samples to fill.

        Returns:
            list[SegDataSample]: See :meth:`postprocess_result`.
        """
        if data_samples is not None:
            batch_img_metas = [sample.metainfo for sample in data_samples]
        else:
            batch_img_metas = [
                dict(
                    ori_shape=inputs.shape[2:],
                    img_shape=inputs.shape[2:],
                    pad_shape=inputs.shape[2:],
                    padding_size=[0, 0, 0, 0],
                )
            ] * inputs.shape[0]
        seg_logits = self.inference(inputs, batch_img_metas)
        if self.test_cfg.get('refiners'):
            seg_logits = self.refine_clusters(inputs, seg_logits)
        if self.test_cfg.get('use_crf', False):
            seg_logits = self.refine_with_crf(inputs, seg_logits)
        results = self.postprocess_result(seg_logits, data_samples)
        if self.test_cfg.get('selection'):
            self.add_label_free_outputs(inputs, results)
        return results

    def unnormalized_images(self, inputs: Tensor) -> List[np.ndarray]:
        """(H, W, 3) uint8 images from the preprocessed ``inputs`` (image
        channels only)."""
        images = self.image_inputs(inputs.detach()).float()
        preprocessor = self.data_preprocessor
        if hasattr(preprocessor, 'denormalize_image'):
            images = preprocessor.denormalize_image(images)
        elif getattr(preprocessor, '_enable_normalize', False):
            images = images * preprocessor.std + preprocessor.mean
        images = images.round().clamp(0, 255).byte().permute(0, 2, 3, 1)
        return list(images.cpu().numpy())

    def refine_clusters(self, inputs: Tensor, seg_logits: Tensor) -> Tensor:
        """The cluster scores refined by ``test_cfg.refiners`` in order.

        Each refiner (registered in ``MODELS``, e.g.
        :class:`~mmuss.models.refiners.LowLevelCueRefiner`) maps cluster
        probabilities (B, K, H, W) and the images' pixel values to refined
        probabilities; the result replaces the cluster scores as
        log-probabilities (linear-probe scores are left as they are).
        """
        if self._refiners is None:
            self._refiners = [
                MODELS.build(cfg) for cfg in self.test_cfg['refiners']
            ]
        pixels = self.pixel_values(inputs.detach())
        clusters = seg_logits[:, : self.num_clusters].float()
        probs = clusters.softmax(dim=1)
        for refiner in self._refiners:
            probs = refiner(probs, pixels)
        refined = probs.clamp_min(1e-8).log().to(seg_logits.dtype)
        return torch.cat([refined, seg_logits[:, self.num_clusters :]], 1)

    def refine_with_crf(self, inputs: Tensor, seg_logits: Tensor) -> Tensor:
        """Dense-CRF refinement of the cluster (and linear) scores at the
        input resolution, with the un-normalised image as guide.

        ``test_cfg.crf`` holds :class:`DenseCRF` arguments (``num_workers``
        and the CRF constants). The refined probabilities replace the scores
        as log-probabilities.
        """
        if self._crf is None:
            self._crf = DenseCRF(**self.test_cfg.get('crf', {}))
        images = self.unnormalized_images(inputs)
        parts = [(0, self.num_clusters)]
        if self.linear_probe is not None:
            parts.append((self.num_clusters, seg_logits.shape[1]))
        refined = []
        for start, end in parts:
            probs = seg_logits[:, start:end].float().softmax(dim=1)
            outputs = self._crf(images, list(probs.cpu().numpy()))
            refined.append(torch.from_numpy(np.stack(outputs)))
        return (
            torch.cat(refined, dim=1)
            .clamp_min(1e-8)
            .log()
            .to(seg_logits.device)
        )

    def _forward(
        self, inputs: Tensor, data_samples: OptSampleList = None
    ) -> Tensor:
        """Codes (B, D, h, w) without post-processing (``mode='tensor'``)."""
        img_metas = [sample.metainfo for sample in data_samples or []]
        codes = self._codes_of(inputs, img_metas)
        if self.head_logits_in_codes:
            codes = codes[:, : codes.shape[1] - self.num_clusters]
        return codes

    def postprocess_result(
        self, seg_logits: Tensor, data_samples: OptSampleList = None
    ) -> SampleList:
        """Undo padding/flip, resize to ``ori_shape`` and split the cluster
        and linear-probe outputs.

        Args:
            seg_logits (Tensor): Output of :meth:`inference`,
                (B, K [+ C], H, W).
            data_samples (list[SegDataSample], optional): Samples to fill.

        Returns:
            list[SegDataSample]: With ``seg_logits`` and ``pred_sem_seg``
            (clusters) and, with a linear probe, ``pred_linear_sem_seg``.
        """
        restored = super().postprocess_result(seg_logits, data_samples)
        for sample in restored:
            logits = sample.seg_logits.data
            cluster_logits = logits[: self.num_clusters]
            sample.set_data(
                {
                    'seg_logits': PixelData(data=cluster_logits),
                    'pred_sem_seg': PixelData(
                        data=cluster_logits.argmax(dim=0, keepdim=True)
                    ),
                }
            )
            if self.linear_probe is not None:
                sample.set_data(
                    {
                        'pred_linear_sem_seg': PixelData(
                            data=logits[self.num_clusters :].argmax(
                                dim=0, keepdim=True
                            )
                        )
                    }
                )
        return self.relabel_clusters(restored)
