# Copyright (c) mmuss contributors. All rights reserved.
from dataclasses import dataclass, field
from typing import Dict, List

from mmseg.utils import ConfigType, SampleList
from torch import Tensor


@dataclass
class HeadInputs:
    """Everything a code head can see beside its codes: one object, made
    by the segmentor, for :meth:`BaseCodeHead.compute_codes` (training and
    test time) and :meth:`BaseCodeHead.loss_by_codes` (training).

    The fields a head receives are the ones it declares
    (``required_views``, ``required_inputs``, ``required_modalities``);
    the others stay empty. Test-time contexts (whole or sliding-window
    inference, flip and generated-view augmentation) carry ``feats``,
    ``dense_inputs``, ``modality_feats`` and ``img_metas`` of the crop or
    view being coded, and no ``data_samples``, ``views`` or ``train_cfg``.

    Attributes:
        feats (list[Tensor]): The frozen backbone (and neck) outputs of the
            image (the RGB modality).
        img_metas (list[dict]): Per-sample meta information (the
            ``metainfo`` of each sample: paths, shapes, fields a transform
            recorded), in training and at test time.
        data_samples (list[SegDataSample]): The training samples without
            ground-truth labels; empty at test time.
        train_cfg (dict): The segmentor's ``train_cfg``; empty at test time.
        views (dict[str, list[Tensor]]): Frozen backbone outputs of each
            name in ``required_views`` (data-loader or generated views);
            training only.
        dense_inputs (dict[str, Tensor]): Each name of ``required_inputs``
            (``'image'`` or a stacked dense map), (B, c, H, W) normalised, at
            the input resolution.
        modality_feats (dict[str, list[Tensor]]): Frozen backbone outputs
            of each name in ``required_modalities`` (the backbone run once
            per modality).
        view_modality_feats (dict[str, dict[str, list[Tensor]]]): For each
            data-sample view in ``required_views`` (e.g. ``knn_img``) of a
            head with ``required_modalities``: the frozen backbone outputs
            of each of those modalities of the view's images (a KNN
            positive is packed with its own modality images); training
            only.
        test_views (list[list[Tensor]]): Frozen backbone outputs of the
            generated views named in the head's ``test_views``, in order
            (a name listed N times is generated N times: N random draws);
            test time only.
    """

    feats: List[Tensor]
    img_metas: List[dict] = field(default_factory=list)
    data_samples: SampleList = field(default_factory=list)
    train_cfg: ConfigType = field(default_factory=dict)
    views: Dict[str, List[Tensor]] = field(default_factory=dict)
    dense_inputs: Dict[str, Tensor] = field(default_factory=dict)
    modality_feats: Dict[str, List[Tensor]] = field(default_factory=dict)
    view_modality_feats: Dict[str, Dict[str, List[Tensor]]] = field(
        default_factory=dict
    )
    test_views: List[List[Tensor]] = field(default_factory=list)

    def view(self, name: str) -> List[Tensor]:
        """The features of view ``name``, failing with the names present."""
        return self._get(self.views, name, 'views', 'required_views')

    def dense(self, name: str) -> Tensor:
        """The dense input ``name``, failing with the names present."""
        return self._get(
            self.dense_inputs, name, 'dense inputs', 'required_inputs'
        )

    def modality(self, name: str) -> List[Tensor]:
        """The features of modality ``name``, failing with the names
        present."""
        return self._get(
            self.modality_feats, name, 'modalities', 'required_modalities'
        )

    def view_modality(self, view: str, name: str) -> List[Tensor]:
        """The features of modality ``name`` of view ``view``'s images,
        failing with the names present."""
        modalities = self._get(
            self.view_modality_feats,
            view,
            'views with modalities',
            'required_views (with required_modalities)',
        )
        return self._get(
            modalities, name, f'modalities of {view!r}', 'required_modalities'
        )

    @staticmethod
    def _get(table: dict, name: str, kind: str, declaration: str):
        if name not in table:
            raise KeyError(
                f'{name!r} is not among the {kind} the head received '
                f"({sorted(table)}); list it in the head's {declaration}"
            )
        return table[name]
