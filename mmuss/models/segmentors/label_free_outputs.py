# Copyright (c) mmuss contributors. All rights reserved.
"""What the label-free selection scores read from a prediction (issue 20).

With ``test_cfg.selection`` set, :class:`UnsupervisedEncoderDecoder` adds
to every predicted sample a ``label_free`` dict computed at the code
resolution, from the image alone (the samples' ground truth is stripped
before anything here runs):

- ``codes`` (D, h, w): the head's codes;
- ``probs`` (K, h, w): the cluster probabilities of the prediction;
- ``features`` (C, h, w): the frozen backbone's last output, resized to
  the codes' grid;
- ``view_probs`` (V, K, h, w): cluster probabilities of each perturbed
  image of ``selection.views``, mapped back to the image's geometry;
- ``objective`` (float): the head's own unsupervised loss
  (``loss_by_codes``, summed over its terms) on the sample's batch.
"""

from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmseg.utils import SampleList
from torch import Tensor

from mmuss.models.decode_heads.head_inputs import HeadInputs
from mmuss.models.utils import strip_ground_truth

#: Perturbations built into the selection outputs; other names are the
#: segmentor's view generators (mapped back by their ``invert``).
BUILTIN_VIEWS = ('flip', 'photometric')

#: Stand-ins for a data-sample view the validation samples lack.
MISSING_VIEW_RULES = ('nearest', 'self', 'error')

#: Defaults of ``test_cfg.selection``.
SELECTION_DEFAULTS = dict(
    views=('flip', 'photometric'),
    objective=True,
    missing_views=None,
    contrast=0.8,
    brightness=10.0,
    seed=0,
)


def nearest_in_batch(feats: Tensor) -> Tensor:
    """Index of each image's most similar other image in the batch.

    Cosine similarity of the spatially averaged features, as the offline
    KNN lists are built (tools/precompute_knn.py), restricted to the batch;
    an image alone in its batch is its own neighbour.

    Args:
        feats (Tensor): (B, C, h, w) features.

    Returns:
        Tensor: (B,) long indices.
    """
    pooled = F.normalize(feats.flatten(2).mean(dim=2), dim=1)
    similarity = pooled @ pooled.T
    if len(similarity) > 1:
        similarity.fill_diagonal_(-float('inf'))
    return similarity.argmax(dim=1)


def photometric_change(
    pixels: Tensor, contrast: float, brightness: float
) -> Tensor:
    """A fixed, small photometric change of pixel values (B, 3, H, W):
    contrast scaled by ``contrast`` about each image's mean, then
    ``brightness`` added, clipped to [0, 255]."""
    mean = pixels.mean(dim=(1, 2, 3), keepdim=True)
    changed = (pixels - mean) * contrast + mean + brightness
    return changed.clamp(0, 255)


class LabelFreeOutputsMixin:
    """The segmentor's ``test_cfg.selection`` route (see module doc).

    ``test_cfg.selection`` (dict, or True for the defaults):

    - ``views`` (Sequence[str]): perturbations compared with the image:
      ``'flip'`` (horizontal mirror), ``'photometric'``
      (:func:`photometric_change` with ``contrast`` and ``brightness``)
      or names of ``view_generators``. Defaults to both built-ins.
    - ``objective`` (bool): compute the head's loss on the batch. The head
      runs in eval mode without gradient; its parameters and buffers are
      restored afterwards (losses that update EMA state in place leave no
      trace) and the random state is forked with ``seed``, so the value
      is reproducible. Defaults to True.
    - ``missing_views`` (str | dict): a head's ``required_views`` that
      the validation samples do not carry: ``'nearest'`` uses each image's
      most similar other image of the batch (:func:`nearest_in_batch`; a
      stand-in for a KNN positive such as STEGO's ``knn_img``),
      ``'self'`` the image itself (a stand-in for an augmented view such
      as PriMaPs' ``student_img``: the identity augmentation),
      ``'error'`` refuses. A dict gives a rule per field. The stand-in
      carries the modality features of its image too (heads with
      ``required_modalities``, e.g. UniM2). Defaults to None: the head's
      ``view_stand_ins``, ``'nearest'`` for the fields it does not name.
    - ``seed`` (int): Seed of the random views and of the objective's
      random draws. Defaults to 0.
    """

    def selection_options(self) -> dict:
        """``test_cfg.selection`` with defaults filled in, checked."""
        options = self.test_cfg.get('selection')
        options = {} if options is True else dict(options)
        unknown = sorted(set(options) - set(SELECTION_DEFAULTS))
        if unknown:
            raise KeyError(
                f'test_cfg.selection has unknown keys {unknown}; known: '
                f'{sorted(SELECTION_DEFAULTS)}'
            )
        options = {**SELECTION_DEFAULTS, **options}
        views = list(options['views'])
        bad = [
            v
            for v in views
            if v not in BUILTIN_VIEWS and v not in self.view_generators
        ]
        if bad:
            raise KeyError(
                f'test_cfg.selection.views names {bad}, which are neither '
                f'built in {BUILTIN_VIEWS} nor in view_generators '
                f'({list(self.view_generators)})'
            )
        check_missing_views(options['missing_views'])
        options['views'] = views
        return options

    def add_label_free_outputs(
        self, inputs: Tensor, data_samples: SampleList
    ) -> None:
        """Attach the ``label_free`` dict to every sample (in place)."""
        options = self.selection_options()
        samples = strip_ground_truth(data_samples, self.label_fields)
        metas = [sample.metainfo for sample in samples]
        codes, probs = self._selection_codes_and_probs(inputs, metas)
        features = self._frozen_feature_map(inputs, codes.shape[2:])
        view_probs = [
            self._view_probabilities(name, inputs, metas, options)
            for name in options['views']
        ]
        objective = float('nan')
        if options['objective']:
            objective = self.held_out_objective(inputs, samples, options)
        for index, sample in enumerate(data_samples):
            stacked = [p[index] for p in view_probs]
            sample.set_field(
                dict(
                    codes=codes[index].float().cpu(),
                    probs=probs[index].float().cpu(),
                    features=features[index].float().cpu(),
                    view_names=list(options['views']),
                    view_probs=torch.stack(stacked).float().cpu()
                    if stacked
                    else probs.new_zeros((0, *probs.shape[1:])).cpu(),
                    objective=objective,
                ),
                'label_free',
            )

    def _selection_codes_and_probs(
        self, inputs: Tensor, metas: List[dict]
    ) -> tuple:
        """Codes (B, D, h, w) of the whole image and the prediction's
        cluster probabilities (B, K, h, w) at the code resolution."""
        codes = self._codes_of(inputs, metas)
        if self.head_logits_in_codes:
            code_dim = codes.shape[1] - self.num_clusters
            logits = codes[:, code_dim:]
            return codes[:, :code_dim], logits.softmax(dim=1)
        return codes, self.cluster_probabilities(codes)

    def _frozen_feature_map(self, inputs: Tensor, size) -> Tensor:
        """The frozen backbone's last output (B, C, h, w) on the image
        (no neck: the neck trains), resized to ``size``."""
        with torch.no_grad():
            feats = self.backbone(self.image_inputs(inputs))
        feats = feats[-1] if isinstance(feats, (list, tuple)) else feats
        if tuple(feats.shape[2:]) != tuple(size):
            feats = self._resize(feats, size)
        return feats

    def _view_probabilities(
        self, name: str, inputs: Tensor, metas: List[dict], options: dict
    ) -> Tensor:
        """Cluster probabilities (B, K, h, w) of the perturbed image
        ``name``, mapped back to the image's geometry."""
        if name == 'flip':
            _, probs = self._selection_codes_and_probs(inputs.flip(-1), metas)
            return probs.flip(-1)
        if name == 'photometric':
            view = self._photometric_inputs(inputs, options)
            return self._selection_codes_and_probs(view, metas)[1]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(options['seed'])
            view = self._with_maps(name, inputs)
        probs = self._selection_codes_and_probs(view, metas)[1]
        return self.view_generators[name].invert(probs)

    def _photometric_inputs(self, inputs: Tensor, options: dict) -> Tensor:
        """Inputs with :func:`photometric_change` applied to the image
        channels (stacked maps kept)."""
        preprocessor = self.data_preprocessor
        mean, std = preprocessor.mean, preprocessor.std
        images = self.image_inputs(inputs)
        pixels = images * std + mean
        changed = photometric_change(
            pixels, options['contrast'], options['brightness']
        )
        view = (changed - mean) / std
        return torch.cat([view, inputs[:, images.shape[1] :]], dim=1)

    def held_out_objective(
        self, inputs: Tensor, samples: SampleList, options: dict
    ) -> float:
        """The head's own unsupervised loss on a batch without labels:
        ``sum`` of the terms of ``loss_by_codes`` whose key holds
        ``'loss'``, the head's state restored afterwards."""
        head = self.decode_head
        saved = {
            key: value.detach().clone()
            for key, value in head.state_dict().items()
        }
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(options['seed'])
                head_inputs = self._held_out_head_inputs(
                    inputs, samples, options
                )
                codes = self.head_codes(head_inputs)
                losses = head.loss_by_codes(codes, head_inputs)
        finally:
            head.load_state_dict(saved)
        return _summed_losses(losses)

    def _held_out_head_inputs(
        self, inputs: Tensor, samples: SampleList, options: dict
    ) -> HeadInputs:
        """What ``loss_by_codes`` reads, made from a validation batch (as
        :meth:`training_head_inputs`, with missing sample views replaced
        per ``missing_views``, their modality features included)."""
        images = self.image_inputs(inputs)
        feats = self.extract_feat(images)
        head_inputs = self.head_inputs(
            inputs, feats, [s.metainfo for s in samples]
        )
        head_inputs.data_samples = samples
        head_inputs.train_cfg = self.train_cfg
        for field in self.decode_head.required_views:
            if field in self.view_generators:
                head_inputs.views[field] = self.generated_view_features(
                    field, inputs
                )
                continue
            view_feats, view_modalities = self._held_out_view(
                field, inputs, samples, head_inputs, options
            )
            head_inputs.views[field] = view_feats
            if self.decode_head.required_modalities:
                head_inputs.view_modality_feats[field] = view_modalities
        return head_inputs

    def _held_out_view(
        self,
        field: str,
        inputs: Tensor,
        samples: SampleList,
        head_inputs: HeadInputs,
        options: dict,
    ) -> Tuple[List[Tensor], Dict[str, List[Tensor]]]:
        """Features and modality features of the data-sample view
        ``field``: the samples' own when they carry it, else the stand-in
        of ``missing_views``."""
        if all(field in sample for sample in samples):
            images = self.image_inputs(inputs)
            return (
                self.view_features(samples, field, images),
                self.view_modality_features(samples, field, inputs),
            )
        stand_in = missing_view_rule(
            options['missing_views'], field, self.decode_head.view_stand_ins
        )
        if stand_in == 'error':
            raise ValueError(
                f'{type(self.decode_head).__name__} needs "{field}" in the '
                'validation samples for its objective; load it in the '
                'validation pipeline or set test_cfg.selection.'
                'missing_views to "nearest" or "self"'
            )
        modalities = head_inputs.modality_feats
        if stand_in == 'self':
            return head_inputs.feats, modalities
        order = nearest_in_batch(head_inputs.feats[-1])
        return _reordered(head_inputs.feats, order), {
            name: _reordered(feats, order)
            for name, feats in modalities.items()
        }


def check_missing_views(missing_views) -> None:
    """Raise a ValueError naming the value unless ``missing_views`` is
    None, a rule of :data:`MISSING_VIEW_RULES` or a dict of them."""
    if missing_views is None:
        return
    rules = (
        [missing_views]
        if isinstance(missing_views, str)
        else list(dict(missing_views).values())
    )
    bad = [rule for rule in rules if rule not in MISSING_VIEW_RULES]
    if bad:
        raise ValueError(
            f'test_cfg.selection.missing_views must be one of '
            f'{MISSING_VIEW_RULES} or a dict of them, got {missing_views!r}'
        )


def missing_view_rule(
    missing_views, field: str, head_stand_ins: Dict[str, str]
) -> str:
    """The stand-in rule of a missing data-sample view: ``missing_views``
    is one rule for every view, a dict ``{field: rule}`` or None; a field
    it does not name gets the head's rule (``head_stand_ins``), else
    ``'nearest'``."""
    if isinstance(missing_views, str):
        return missing_views
    rules = {**dict(head_stand_ins), **dict(missing_views or {})}
    return rules.get(field, 'nearest')


def _reordered(feats: List[Tensor], order: Tensor) -> List[Tensor]:
    return [feat[order] for feat in feats]


def _summed_losses(losses: Dict[str, Tensor]) -> float:
    """Sum of the loss terms (keys holding ``'loss'``) of a head; NaN for
    a head without any (it trains nothing: no objective to score)."""
    terms = [
        value.float().sum()
        for key, value in losses.items()
        if 'loss' in key and torch.is_tensor(value)
    ]
    if not terms:
        return float('nan')
    return float(torch.stack(terms).sum())
