# Copyright (c) mmuss contributors. All rights reserved.
"""UniM2's cross-modal correspondence synergy (CMCS) loss.

UniM2 supplement Sec. 4, Eq. 9 and the official code
(``ContrastiveCorrelationLoss`` once per modality, summed with modality
weights): STEGO's correspondence distillation run for every modality m on
that modality's *raw* frozen features F^m against a code of the shared
representation (S for RGB, the CMH proxy S_X for the others, Eq. 7).
"""

from typing import Dict, Mapping, Optional

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

SHARED_KEYS = (
    'num_samples',
    'num_negatives',
    'centering',
    'zero_clamp',
    'stabilize',
    'negative_sampling',
)


def cmcs_total(
    modality_losses: Mapping[str, Tensor], weights: Mapping[str, float]
) -> Tensor:
    """The CMCS / CMH objective, UniM2 supplement Eq. 7 generalised to M
    modalities: ``L = sum_m lambda_m L_m`` (``L_rgb(S) + lambda L_X(S_X)``
    for two; the code weights RGB too), each L_m an Eq. 9 correspondence
    loss over self / KNN / random pairs.

    Args:
        modality_losses (Mapping[str, Tensor]): L_m per modality.
        weights (Mapping[str, float]): lambda_m per modality.

    Returns:
        Tensor: Scalar total.
    """
    missing = sorted(set(modality_losses) - set(weights))
    if missing:
        raise KeyError(f'no CMCS modality weight for {missing}')
    return sum(weights[name] * loss for name, loss in modality_losses.items())


@MODELS.register_module()
class CMCSLoss(nn.Module):
    """Cross-modal correspondence synergy over any number of modalities.

    For each modality m (a key of ``modalities``), the STEGO loss of
    :class:`StegoCorrespondenceLoss` with that modality's weights
    (``weight_self/knn/rand``) and shifts (``shift_self/knn/rand``): the
    summand of supplement Eq. 9, ``-sum (F^m_hwij - b) max(S^m_hwij, 0)``
    (:func:`correspondence_loss_map`), with F^m the correlation of modality
    m's frozen features and S^m that of the code the head pairs with m.
    The modality totals are combined by :func:`cmcs_total` with the
    modality weights ``loss_weight`` (upstream ``<modal>_weight``; default
    1 / M, upstream's default).

    KNN positives are the same images for every modality (the neighbours
    are computed on RGB, as upstream); each modality's features of the
    positive are paired with that modality's. As upstream, every modality
    draws its own sample points and random pairings; ``share_sampling=
    True`` draws them once for all modalities (a choice the paper is silent
    on).

    Args:
        modalities (dict[str, dict]): Per modality: ``weight_*``,
            ``shift_*`` and ``loss_weight`` (lambda_m).
        num_samples, num_negatives, centering, zero_clamp, stabilize,
            negative_sampling: Shared :class:`StegoCorrespondenceLoss`
            arguments (UniM2: 11, 5, ``'stego'``, True, False).
        share_sampling (bool): One draw of sample points and random pairs
            for all modalities. Defaults to False.
        loss_name (str): Key of the total. Defaults to ``'loss_cmcs'``.
    """

    def __init__(
        self,
        modalities: Dict[str, dict],
        num_samples: int = 11,
        num_negatives: int = 5,
        centering: Optional[str] = 'stego',
        zero_clamp: bool = True,
        stabilize: bool = False,
        negative_sampling: str = 'derangement',
        share_sampling: bool = False,
        loss_name: str = 'loss_cmcs',
    ) -> None:
        super().__init__()
        if not modalities:
            raise ValueError('CMCSLoss needs at least one modality')
        shared = dict(
            num_samples=num_samples,
            num_negatives=num_negatives,
            centering=centering,
            zero_clamp=zero_clamp,
            stabilize=stabilize,
            negative_sampling=negative_sampling,
        )
        self.weights = {}
        losses = {}
        for name, spec in modalities.items():
            spec = dict(spec)
            clash = sorted(set(spec) & set(SHARED_KEYS))
            if clash:
                raise ValueError(
                    f'CMCS modality {name!r} sets {clash}, which are shared '
                    'by all modalities: set them on CMCSLoss'
                )
            self.weights[name] = float(
                spec.pop('loss_weight', 1.0 / len(modalities))
            )
            losses[name] = MODELS.build(
                dict(type='StegoCorrespondenceLoss', **shared, **spec)
            )
        self.losses = nn.ModuleDict(losses)
        self.share_sampling = share_sampling
        self.loss_name = loss_name

    @property
    def modalities(self):
        """The modality names, in order."""
        return tuple(self.losses)

    def needs_knn(self) -> bool:
        """Whether any modality has a KNN term."""
        return any(loss.weights['knn'] for loss in self.losses.values())

    def shared_draws(self, feats: Tensor) -> dict:
        """Sample points and random pairings drawn once (with
        ``share_sampling``)."""
        if not self.share_sampling:
            return {}
        loss = next(iter(self.losses.values()))
        batch_size, device = feats.shape[0], feats.device
        draws = dict(
            coords1=loss.random_coords(batch_size, device),
            coords2=loss.random_coords(batch_size, device),
        )
        if any(loss.weights['rand'] for loss in self.losses.values()):
            draws['permutations'] = loss.negative_permutations(
                batch_size, device
            )
        return draws

    def forward(
        self,
        feats: Mapping[str, Tensor],
        codes: Mapping[str, Tensor],
        knn_feats: Optional[Mapping[str, Tensor]] = None,
        knn_codes: Optional[Mapping[str, Tensor]] = None,
    ) -> Dict[str, Tensor]:
        """Compute the loss.

        Args:
            feats (Mapping[str, Tensor]): Raw frozen features (B, C, h, w)
                of each modality.
            codes (Mapping[str, Tensor]): The code (B, D, h, w) paired with
                each modality (S or S_X).
            knn_feats, knn_codes (Mapping[str, Tensor], optional): The
                same of the KNN positives.

        Returns:
            dict[str, Tensor]: ``loss_name`` (Eq. 7 total) and, detached,
            ``cmcs_<m>`` (each modality's weighted-term sum) and
            ``cmcs_<m>_<self|knn|rand>`` (its unweighted terms).
        """
        missing = [
            name
            for name in self.modalities
            if name not in feats or name not in codes
        ]
        if missing:
            raise KeyError(
                f'CMCS needs features and codes of {missing}; got features '
                f'of {sorted(feats)} and codes of {sorted(codes)}'
            )
        draws = self.shared_draws(next(iter(feats.values())))
        totals, logs = {}, {}
        for name, loss in self.losses.items():
            terms = loss(
                feats[name],
                codes[name],
                (knn_feats or {}).get(name),
                (knn_codes or {}).get(name),
                **draws,
            )
            totals[name] = terms.pop(loss.loss_name)
            logs[f'cmcs_{name}'] = totals[name].detach()
            logs.update(
                {
                    f'cmcs_{name}_{key[len("corr_") :]}': value
                    for key, value in terms.items()
                }
            )
        return {self.loss_name: cmcs_total(totals, self.weights), **logs}
