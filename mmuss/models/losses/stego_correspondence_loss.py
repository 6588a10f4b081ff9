# Copyright (c) mmuss contributors. All rights reserved.
"""STEGO's contrastive correlation (correspondence distillation) loss.

`STEGO <https://arxiv.org/abs/2203.08414>`_ (Hamilton et al., ICLR 2022),
Sec. 3: the codes of a segmentation head are trained so that their
correlations between image locations follow the (shifted) correlations of
the frozen backbone features, for an image with itself, with one of its
nearest neighbours and with random other images.
"""

from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

CENTERING_MODES = ('paper', 'stego', None)
NEGATIVE_SAMPLING_MODES = ('derangement', 'stego')


def sample_at(dense: Tensor, coords: Tensor) -> Tensor:
    """Bilinear samples of a dense map at continuous coordinates.

    STEGO evaluates its loss on an S x S grid of random points per image
    (Sec. 3.2). As upstream (``sample``), the coordinates lie in [-1, 1]^2,
    the border is replicated and corners are aligned; the (B, S, S, 2)
    coordinate grid is read transposed, exactly as upstream does.

    Args:
        dense (Tensor): (B, C, H, W) map.
        coords (Tensor): (B, S, S, 2) coordinates (x, y) in [-1, 1].

    Returns:
        Tensor: (B, C, S, S) samples.
    """
    return F.grid_sample(
        dense,
        coords.permute(0, 2, 1, 3),
        padding_mode='border',
        align_corners=True,
    )


def tensor_correlation(a: Tensor, b: Tensor) -> Tensor:
    """All-pairs inner products ``out[n, h, w, i, j] = <a[n, :, h, w],
    b[n, :, i, j]>`` of two (N, C, H, W) maps (N, H, W, I, J)."""
    return torch.einsum('nchw,ncij->nhwij', a, b)


@torch.no_grad()
def feature_correlation(
    feats1: Tensor, feats2: Tensor, centering: Optional[str] = 'paper'
) -> Tensor:
    """Feature correspondence tensor F, optionally spatially centred.

    STEGO Eq. 1: ``F_hwij`` is the cosine similarity of the frozen features
    at location hw of the first image and ij of the second. STEGO's spatial
    centring (Eq. 4) subtracts, for every query location hw, the mean over
    the second image's locations: ``F^SC_hwij = F_hwij - mean_ij F_hwij``.

    ``centering``:
    - ``'paper'`` (default): Eq. 4 as written;
    - ``'stego'``: the upstream code (``pointwise=True``), which after the
      per-query centring adds back the global mean of F, so the centred
      tensor keeps the mean of the uncentred one; the published shifts were
      tuned with this variant;
    - ``None``: no centring.

    No gradient flows into the frozen features.

    Args:
        feats1 (Tensor): (N, C, H, W) features of the query locations.
        feats2 (Tensor): (N, C, I, J) features of the paired locations.
        centering (str, optional): See above.

    Returns:
        Tensor: (N, H, W, I, J).
    """
    if centering not in CENTERING_MODES:
        raise ValueError(
            f'centering must be one of {CENTERING_MODES}, got {centering!r}'
        )
    correlation = tensor_correlation(
        F.normalize(feats1, dim=1, eps=1e-10),
        F.normalize(feats2, dim=1, eps=1e-10),
    )
    if centering is None:
        return correlation
    global_mean = correlation.mean()
    correlation = correlation - correlation.mean(dim=(3, 4), keepdim=True)
    if centering == 'stego':
        correlation = correlation - correlation.mean() + global_mean
    return correlation


def code_correlation(codes1: Tensor, codes2: Tensor) -> Tensor:
    """Segmentation correspondence tensor S (STEGO Eq. 2): cosine
    similarities of the head's codes between all location pairs,
    (N, H, W, I, J), differentiable."""
    return tensor_correlation(
        F.normalize(codes1, dim=1, eps=1e-10),
        F.normalize(codes2, dim=1, eps=1e-10),
    )


def correspondence_loss_map(
    feature_corr: Tensor,
    code_corr: Tensor,
    shift: float,
    zero_clamp: bool = True,
    stabilize: bool = False,
) -> Tensor:
    """Element-wise correspondence distillation loss (STEGO Eq. 5).

    ``-max(S, 0) * (F^SC - b)``: code correlations are pushed up where the
    centred feature correlation exceeds the shift ``b`` and down elsewhere;
    the zero clamp stops negatively correlated codes from being pushed
    further apart (Sec. 3.1). ``stabilize`` additionally clamps S at 0.8
    (upstream option ``stabalize``, off by default).

    Args:
        feature_corr (Tensor): F^SC, no gradient.
        code_corr (Tensor): S, with gradient.
        shift (float): The shift b.
        zero_clamp (bool): Clamp S at 0 from below. Defaults to True.
        stabilize (bool): Clamp S at 0.8 from above. Defaults to False.

    Returns:
        Tensor: Loss of every location pair (same shape as the inputs).
    """
    if zero_clamp or stabilize:
        code_corr = code_corr.clamp(
            0.0 if zero_clamp else None, 0.8 if stabilize else None
        )
    return -code_corr * (feature_corr - shift)


def random_derangement(
    size: int, device=None, generator: Optional[torch.Generator] = None
) -> Tensor:
    """A uniformly random permutation without fixed points (no image is
    paired with itself).

    Args:
        size (int): Permutation size, >= 2.
        device: Device of the result.
        generator (torch.Generator, optional): Random generator.

    Returns:
        Tensor: (size,) int64 permutation.
    """
    if size < 2:
        raise ValueError(
            'a permutation without fixed points needs at least '
            f'2 elements, got {size}'
        )
    identity = torch.arange(size)
    while True:
        perm = torch.randperm(size, generator=generator)
        if not (perm == identity).any():
            return perm.to(device)


def stego_super_perm(
    size: int, device=None, generator: Optional[torch.Generator] = None
) -> Tensor:
    """STEGO's ``super_perm``: a random permutation whose fixed points are
    moved by one (mod size). It never pairs an image with itself but may
    pair two images with the same one."""
    perm = torch.randperm(size, generator=generator)
    perm[perm == torch.arange(size)] += 1
    return (perm % size).to(device)


@MODELS.register_module()
class StegoCorrespondenceLoss(nn.Module):
    """The full STEGO correspondence loss over self, KNN and random pairs.

    STEGO Eq. 6: ``L = l_self L_corr(x, x, b_self) + l_knn L_corr(x, x_knn,
    b_knn) + l_rand L_corr(x, x_rand, b_rand)``, each ``L_corr`` the mean of
    :func:`correspondence_loss_map` over S x S random sample points of both
    images (:func:`sample_at`; mean as upstream, the paper writes a sum,
    which only rescales the weights). ``num_negatives`` random pairings are
    averaged for the random term; with ``negative_sampling='derangement'``
    (default) each is a permutation without fixed points, with ``'stego'``
    upstream's ``super_perm``.

    Args:
        weight_self, weight_knn, weight_rand (float): l_self, l_knn, l_rand.
        shift_self, shift_knn, shift_rand (float): b_self, b_knn, b_rand.
        num_samples (int): S, sample points per side. Defaults to 11.
        num_negatives (int): Random pairings. Defaults to 5.
        centering (str, optional): See :func:`feature_correlation`.
            Defaults to ``'paper'``.
        zero_clamp (bool): Defaults to True.
        stabilize (bool): Defaults to False.
        negative_sampling (str): ``'derangement'`` or ``'stego'``.
        loss_weight (float): Multiplies the total (upstream
            ``correspondence_weight``). Defaults to 1.
        loss_name (str): Key of the total loss. Defaults to ``'loss_corr'``.
    """

    def __init__(
        self,
        weight_self: float = 0.67,
        weight_knn: float = 0.25,
        weight_rand: float = 0.63,
        shift_self: float = 0.08,
        shift_knn: float = 0.02,
        shift_rand: float = 0.66,
        num_samples: int = 11,
        num_negatives: int = 5,
        centering: Optional[str] = 'paper',
        zero_clamp: bool = True,
        stabilize: bool = False,
        negative_sampling: str = 'derangement',
        loss_weight: float = 1.0,
        loss_name: str = 'loss_corr',
    ) -> None:
        super().__init__()
        if centering not in CENTERING_MODES:
            raise ValueError(f'centering must be one of {CENTERING_MODES}')
        if negative_sampling not in NEGATIVE_SAMPLING_MODES:
            raise ValueError(
                f'negative_sampling must be one of {NEGATIVE_SAMPLING_MODES}'
            )
        self.weights = dict(self=weight_self, knn=weight_knn, rand=weight_rand)
        self.shifts = dict(self=shift_self, knn=shift_knn, rand=shift_rand)
        self.num_samples = num_samples
        self.num_negatives = num_negatives
        self.centering = centering
        self.zero_clamp = zero_clamp
        self.stabilize = stabilize
        self.negative_sampling = negative_sampling
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def pair_loss(
        self,
        feats1: Tensor,
        feats2: Tensor,
        codes1: Tensor,
        codes2: Tensor,
        shift: float,
    ) -> Tensor:
        """Mean loss of one pairing (STEGO's ``helper``)."""
        return correspondence_loss_map(
            feature_correlation(feats1, feats2, self.centering),
            code_correlation(codes1, codes2),
            shift,
            self.zero_clamp,
            self.stabilize,
        ).mean()

    def random_coords(self, batch_size: int, device) -> Tensor:
        """(B, S, S, 2) uniform coordinates in [-1, 1]."""
        return (
            torch.rand(
                batch_size,
                self.num_samples,
                self.num_samples,
                2,
                device=device,
            )
            * 2
            - 1
        )

    def negative_permutations(
        self, batch_size: int, device
    ) -> Sequence[Tensor]:
        """``num_negatives`` random pairings of the batch."""
        if batch_size < 2:
            raise ValueError(
                'STEGO random (negative) pairs need at least 2 images per '
                f'batch, got {batch_size}; raise train_dataloader.batch_size'
                ' or set weight_rand=0'
            )
        draw = (
            random_derangement
            if self.negative_sampling == 'derangement'
            else stego_super_perm
        )
        return [draw(batch_size, device) for _ in range(self.num_negatives)]

    def forward(
        self,
        feats: Tensor,
        codes: Tensor,
        knn_feats: Optional[Tensor] = None,
        knn_codes: Optional[Tensor] = None,
        coords1: Optional[Tensor] = None,
        coords2: Optional[Tensor] = None,
        permutations: Optional[Sequence[Tensor]] = None,
    ) -> Dict[str, Tensor]:
        """Compute the loss.

        Args:
            feats (Tensor): Frozen features (B, C, h, w) of the images.
            codes (Tensor): Head codes (B, D, h, w) of the images.
            knn_feats (Tensor, optional): Features of the KNN positives;
                required when ``weight_knn`` is not 0.
            knn_codes (Tensor, optional): Codes of the KNN positives.
            coords1 (Tensor, optional): Sample points in the images.
            coords2 (Tensor, optional): Sample points in the paired images.
            permutations (Sequence[Tensor], optional): Random pairings.

        Returns:
            dict[str, Tensor]: ``loss_name`` (the weighted total) and the
            unweighted terms ``corr_self``, ``corr_knn``, ``corr_rand``.
        """
        batch_size, device = feats.shape[0], feats.device
        if coords1 is None:
            coords1 = self.random_coords(batch_size, device)
        if coords2 is None:
            coords2 = self.random_coords(batch_size, device)
        sampled_feats = sample_at(feats, coords1)
        sampled_codes = sample_at(codes, coords1)
        terms = {}
        if self.weights['self']:
            terms['self'] = self.pair_loss(
                sampled_feats,
                sampled_feats,
                sampled_codes,
                sampled_codes,
                self.shifts['self'],
            )
        if self.weights['knn']:
            if knn_feats is None or knn_codes is None:
                raise ValueError(
                    "weight_knn > 0 needs the KNN positives' "
                    'features and codes'
                )
            terms['knn'] = self.pair_loss(
                sampled_feats,
                sample_at(knn_feats, coords2),
                sampled_codes,
                sample_at(knn_codes, coords2),
                self.shifts['knn'],
            )
        if self.weights['rand']:
            if permutations is None:
                permutations = self.negative_permutations(batch_size, device)
            terms['rand'] = torch.stack(
                [
                    self.pair_loss(
                        sampled_feats,
                        sample_at(feats[perm], coords2),
                        sampled_codes,
                        sample_at(codes[perm], coords2),
                        self.shifts['rand'],
                    )
                    for perm in permutations
                ]
            ).mean()
        # a tensor on the codes' graph even when every weight is 0 (an
        # ablation): zero loss, zero gradients, nothing special downstream
        total = codes.sum() * 0
        for name, value in terms.items():
            total = total + self.weights[name] * value
        losses = {self.loss_name: self.loss_weight * total}
        losses.update(
            {f'corr_{name}': value.detach() for name, value in terms.items()}
        )
        return losses
