# Copyright (c) mmuss contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, SampleList
from torch import Tensor

from mmuss.utils.checkpoint_safety import load_checkpoint_file

from ..losses.primaps_focal_loss import mask_mode_labels, primaps_focal_loss
from ..probes.cluster_probe import (
    cluster_probe_loss,
    kmeans_plus_plus_seeds,
)
from ..utils.ema_prototypes import EMAPrototypes
from ..utils.legacy_state import LegacyStateMixin
from ..utils.primaps import principal_mask_proposals
from .base_code_head import BaseCodeHead
from .head_inputs import HeadInputs

#: Prototype keys of checkpoints saved before the prototypes moved into
#: :class:`EMAPrototypes`, and where they are now.
LEGACY_PROTOTYPE_KEYS = {
    'student': 'prototypes.student',
    'teacher': 'prototypes.teacher',
    'student_gain': 'prototypes.student_gain',
    'teacher_gain': 'prototypes.teacher_gain',
    'ema_updates': 'prototypes.updates',
}


@MODELS.register_module()
class PrimapsHead(LegacyStateMixin, BaseCodeHead):
    """PriMaPs-EM: class prototypes fitted by moving-average stochastic EM.

    `PriMaPs <https://arxiv.org/abs/2404.16818>`_ (Hahn et al., TMLR 2024,
    Sec. 3.2). Two sets of K prototypes in the feature space: the momentum
    prototypes theta_T give the prediction, the prototypes theta_S are
    trained. Training has two phases (one MMEngine run):

    1. initialisation: the prototypes start from the first K principal
       components of the training features (:class:`PrimapsInitHook`) and
       are trained for ``kmeans_iters`` steps on the cosine batch k-means
       loss (Eq. 9); theta_T and theta_S are equal during this phase (the
       trained set is copied to the other each step, so "pre-train theta_T,
       then copy it to theta_S" holds with a single optimised tensor);
    2. EM: each step, theta_T predicts the clean image, every PriMaPs mask
       takes its most frequent predicted class (E-step on
       :meth:`teacher_scores`,
       :func:`mask_mode_labels`), and theta_S, applied to the
       photometrically augmented image (``student_view``), is trained with
       the class-confidence weighted focal loss (Eq. 10, M-step); theta_T
       follows theta_S by EMA every 10 steps (Eq. 11,
       :class:`PrimapsEMAHook`).

    Prototypes and scores (used with the segmentor's
    ``cluster_source='head'``):

    - ``prototype_gain='fixed'`` (default): prototypes are unit directions,
      the student's logits ``theta_S^T f`` with raw features.
      ``'learned'``: upstream's ``weight_norm(Conv2d(C, K, 1))``, i.e. a
      direction and a trained gain per prototype (logits
      ``g_k v_k^T f / |v_k|``); theta_T is the EMA of both. The paper's
      "class prototypes ... projecting the C-dimensional features linearly
      to K pseudo classes" with ``softmax(theta_S^T f)`` is an unconstrained
      linear map, which the learned gain represents exactly; the unit
      constraint is mmuss's (measured on the demo in the README).
    - ``prediction_logits='cosine'`` (default): theta_T's prediction, the
      E-step and the CRF input use ``eval_alpha * cos(f, theta_T)``
      (``log_softmax``; argmax = Eq. 9's assignment). ``'dot'``: the raw dot
      products ``theta_T^T f`` (with the gains), as the paper's "dot product
      with the image features" and upstream's evaluation and CRF input (no
      temperature).

    The features are the frozen backbone's (``IdentityHead`` style) or, for
    PriMaPs-EM on top of another method ("SotA + PriMaPs-EM", Sec. 4), the
    codes of a frozen ``feature_head`` (e.g. a trained :class:`StegoHead`,
    loaded from ``feature_head_checkpoint``). The masks are the
    precomputed proposals in the data samples' ``mask_field``
    (:class:`LoadPseudoMask`), or computed on-line from the backbone
    features without CRF (``online_proposals=True``, for small data).

    Args:
        in_channels (int): Backbone feature channels.
        num_prototypes (int): K.
        feature_head (dict, optional): Frozen head producing the features.
        feature_head_checkpoint (str, optional): Checkpoint of a segmentor
            holding ``feature_head`` under ``decode_head.``, loaded by
            ``init_weights``.
        focal_gamma (float): gamma of Eq. 10. Defaults to 2.
        ema_momentum (float): gamma_psi of Eq. 11. Defaults to 0.98.
        ema_warmup (bool): Upstream's EMA warm-up (decay min(m, 1 - 1/k) at
            the k-th update); the paper uses the plain decay (default).
        eval_alpha (float): Inverse temperature of the cosine prediction.
        prototype_gain (str): ``'fixed'`` or ``'learned'`` (see above).
        prediction_logits (str): ``'cosine'`` or ``'dot'`` (see above).
        student_view (str): Data-sample field of the augmented image.
        mask_field (str): Data-sample field of the proposals.
        online_proposals (bool): Compute the proposals from the features.
            In eval mode (the label-free held-out objective of issue 20)
            samples without precomputed proposals get on-line ones
            whatever this is: validation pipelines seldom load them.
        psi (float): Threshold of Eq. 6 for the on-line proposals; also the
            default of ``tools/precompute_primaps.py``. Defaults to 0.4.
        kmeans_reseed_interval (int): During the k-means phase, every this
            many steps, prototypes that won no feature in those steps
            (summed over ranks) are re-seeded by k-means++ from the batch's
            features (rank 0's, broadcast). Label-free; not in the paper,
            whose principal-component start can leave a prototype that no
            feature is closest to, which gradient k-means never moves.
            0 (default) follows the paper.
        em_reseed_interval (int): The same during EM: every this many EM
            steps, prototypes that labelled no pixel of the pseudo labels in
            those steps are re-seeded (theta_S and theta_T alike). A
            prototype that wins no mask's mode gets no target, so without
            this it stays dead for the rest of training. Label-free; not in
            the paper. 0 (default) follows the paper.
        ignore_index (int): Defaults to 255.
    """

    def __init__(
        self,
        in_channels: int,
        num_prototypes: int,
        feature_head: OptConfigType = None,
        feature_head_checkpoint: Optional[str] = None,
        focal_gamma: float = 2.0,
        ema_momentum: float = 0.98,
        ema_warmup: bool = False,
        eval_alpha: float = 2.0,
        prototype_gain: str = 'fixed',
        prediction_logits: str = 'cosine',
        student_view: str = 'student_img',
        mask_field: str = 'primaps_map',
        online_proposals: bool = False,
        psi: float = 0.4,
        kmeans_reseed_interval: int = 0,
        em_reseed_interval: int = 0,
        ignore_index: int = 255,
        **kwargs,
    ) -> None:
        self.feature_head = None
        channels = in_channels
        if feature_head is not None:
            built = MODELS.build(feature_head)
            channels = built.channels
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            ignore_index=ignore_index,
            **kwargs,
        )
        self.feature_head_checkpoint = feature_head_checkpoint
        if feature_head is not None:
            self.feature_head = built
            self.feature_head.requires_grad_(False)
        if prototype_gain not in ('fixed', 'learned'):
            raise ValueError(
                'prototype_gain must be "fixed" or "learned", got '
                f'{prototype_gain!r}'
            )
        if prediction_logits not in ('cosine', 'dot'):
            raise ValueError(
                'prediction_logits must be "cosine" or "dot", got '
                f'{prediction_logits!r}'
            )
        self.prototype_gain = prototype_gain
        self.prediction_logits = prediction_logits
        self.num_prototypes = num_prototypes
        self.prototypes = EMAPrototypes(
            channels,
            num_prototypes,
            momentum=ema_momentum,
            init='normal',
            momentum_warmup=ema_warmup,
            learned_gain=prototype_gain == 'learned',
        )
        self.register_buffer('initialized', torch.tensor(False))
        self.register_buffer('kmeans_iters', torch.zeros((), dtype=torch.long))
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))
        self.focal_gamma = focal_gamma
        self.eval_alpha = eval_alpha
        self.student_view = student_view
        self.mask_field = mask_field
        self.online_proposals = online_proposals
        self.psi = psi
        self.kmeans_reseed_interval = kmeans_reseed_interval
        self.em_reseed_interval = em_reseed_interval
        self.register_buffer(
            'usage', torch.zeros(num_prototypes, dtype=torch.long)
        )

    @property
    def view_stand_ins(self) -> Dict[str, str]:
        """The student view is an augmented copy of the image: the
        held-out objective uses the image itself when it is missing."""
        return {self.student_view: 'self'}

    @property
    def required_views(self) -> tuple:
        """The student view, from the first EM step on: the k-means phase
        does not use it, so its backbone pass is skipped (as upstream, whose
        k-means phase is a run without the augmented image)."""
        upcoming = int(self.steps) + 1
        if bool(self.initialized) and upcoming > int(self.kmeans_iters):
            return (self.student_view,)
        return ()

    @property
    def num_clusters(self) -> int:
        return self.num_prototypes

    #: Older checkpoints' prototype keys, renamed while loading.
    legacy_state_keys = LEGACY_PROTOTYPE_KEYS

    def init_weights(self) -> None:
        """Initialise, then load the frozen feature head's checkpoint."""
        super().init_weights()
        if self.feature_head is not None and self.feature_head_checkpoint:
            self.load_feature_head(self.feature_head_checkpoint)

    def load_feature_head(self, checkpoint: str) -> None:
        """Load ``decode_head.*`` weights of a trained segmentor."""
        loaded = load_checkpoint_file(checkpoint)
        state = loaded.get('state_dict', loaded)
        prefix = 'decode_head.'
        weights = {
            k[len(prefix) :]: v
            for k, v in state.items()
            if k.startswith(prefix)
        }
        if not weights:
            raise KeyError(f'{checkpoint} holds no decode_head weights')
        self.feature_head.load_state_dict(weights, strict=True)

    def train(self, mode: bool = True) -> 'PrimapsHead':
        super().train(mode)
        if self.feature_head is not None:
            self.feature_head.eval()
        return self

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """The features the prototypes live in (B, C, h, w)."""
        if self.feature_head is None:
            return self._transform_inputs(inputs)
        with torch.no_grad():
            return self.feature_head(inputs)

    @property
    def in_em_phase(self) -> bool:
        return bool(self.initialized) and int(self.steps) > int(
            self.kmeans_iters
        )

    def teacher_scores(self, codes: Tensor) -> Tensor:
        """theta_T's class scores (B, K, h, w): ``eval_alpha * cos`` or the
        raw dot products (``prediction_logits``)."""
        if self.prediction_logits == 'cosine':
            return self.eval_alpha * self.prototypes.teacher_similarity(codes)
        return self.prototypes.dot(codes, teacher=True)

    def cluster_logits(self, codes: Tensor) -> Tensor:
        """Prediction of the momentum prototypes theta_T (log-probabilities,
        also the CRF's input)."""
        return F.log_softmax(self.teacher_scores(codes), dim=1)

    def student_logits(self, codes: Tensor) -> Tensor:
        """``theta_S^T f`` (Eq. 10's y') with raw features."""
        return self.prototypes.dot(codes, teacher=False)

    @torch.no_grad()
    def set_prototypes(self, prototypes: Tensor, kmeans_iters: int) -> None:
        """Initialise theta_T and theta_S and the length of the k-means
        phase; mark the head initialised (saved with checkpoints)."""
        self.prototypes.set_(prototypes)
        self.kmeans_iters.fill_(kmeans_iters)
        self.initialized.fill_(True)

    def update_teacher(self) -> None:
        """theta_T <- m theta_T + (1 - m) theta_S (PriMaPs Eq. 11)."""
        self.prototypes.update_teacher()

    def kmeans_loss(self, codes: Tensor) -> Tensor:
        """Cosine batch k-means loss of the prototypes (PriMaPs Eq. 9)."""
        similarity = self.prototypes.student_similarity(codes.detach())
        if self.kmeans_reseed_interval > 0:
            self._reseed_dead_prototypes(
                similarity.argmax(dim=1),
                codes,
                int(self.steps),
                self.kmeans_reseed_interval,
            )
        return cluster_probe_loss(similarity)

    @torch.no_grad()
    def _reseed_dead_prototypes(
        self, assigned: Tensor, codes: Tensor, step: int, interval: int
    ) -> None:
        """Count the pixels each prototype is ``assigned`` (ids, ignore
        index skipped); every ``interval`` steps, re-seed theta_S and
        theta_T of the prototypes that got none, by k-means++ from this
        batch's features away from the live prototypes (rank 0's seeds,
        broadcast)."""
        assigned = assigned[assigned != self.ignore_index]
        self.usage += torch.bincount(
            assigned.flatten(), minlength=self.num_prototypes
        )
        if step % interval:
            return
        usage = self.usage.clone()
        self.usage.zero_()
        if dist.is_initialized():
            dist.all_reduce(usage)
        dead = usage == 0
        if not dead.any():
            return
        points = codes.detach().permute(0, 2, 3, 1).reshape(-1, codes.shape[1])
        seeds = kmeans_plus_plus_seeds(
            F.normalize(points.float(), dim=1),
            int(dead.sum()),
            F.normalize(self.prototypes.student.data[~dead].float(), dim=1),
        )
        self.prototypes.reseed_(dead, seeds)

    def loss_by_codes(
        self, codes: Tensor, head_inputs: HeadInputs
    ) -> Dict[str, Tensor]:
        """Eq. 9 during initialisation, then the EM step's Eq. 10."""
        if not bool(self.initialized):
            raise RuntimeError(
                'PrimapsHead prototypes are not initialised; add '
                "dict(type='PrimapsInitHook') to custom_hooks"
            )
        self.steps += 1
        if int(self.steps) <= int(self.kmeans_iters):
            # theta_T = theta_S while initialising
            self.prototypes.copy_student_to_teacher()
            return dict(loss_kmeans=self.kmeans_loss(codes))
        masks = self.proposal_maps(
            codes, head_inputs.feats, head_inputs.data_samples
        )
        size = masks.shape[-2:]
        with torch.no_grad():
            teacher = F.interpolate(
                self.teacher_scores(codes),
                size=size,
                mode='bilinear',
                align_corners=self.align_corners,
            )
            pseudo = mask_mode_labels(
                masks,
                teacher.argmax(dim=1),
                self.num_prototypes,
                self.ignore_index,
            )
            if self.em_reseed_interval > 0:
                em_step = int(self.steps) - int(self.kmeans_iters)
                if em_step == 1:  # count the EM phase apart
                    self.usage.zero_()
                self._reseed_dead_prototypes(
                    pseudo, codes, em_step, self.em_reseed_interval
                )
        student_codes = self.forward(head_inputs.view(self.student_view))
        logits = F.interpolate(
            self.student_logits(student_codes),
            size=size,
            mode='bilinear',
            align_corners=self.align_corners,
        )
        loss = primaps_focal_loss(
            logits, pseudo, self.focal_gamma, self.ignore_index
        )
        labelled = (pseudo != self.ignore_index).float().mean()
        return dict(loss_focal=loss, pseudo_coverage=labelled)

    def proposal_maps(
        self,
        codes: Tensor,
        inputs: List[Tensor],
        batch_data_samples: SampleList,
    ) -> Tensor:
        """(B, H, W) mask ids: precomputed, or on-line from the backbone
        features (at feature resolution, without CRF)."""
        missing = [s for s in batch_data_samples if self.mask_field not in s]
        if self.online_proposals or (missing and not self.training):
            with torch.no_grad():
                ids = principal_mask_proposals(
                    self._transform_inputs(inputs), psi=self.psi
                )
            return torch.where(ids == 0, self.ignore_index, ids)
        if missing:
            raise ValueError(
                f'PrimapsHead needs "{self.mask_field}" in every training '
                'sample: load the precomputed proposals with LoadPseudoMask '
                '(made by tools/precompute_primaps.py) and pack them with '
                'PackUSSInputs(map_fields=...), or set online_proposals=True'
            )
        return torch.stack(
            [s.get(self.mask_field).data[0] for s in batch_data_samples]
        ).to(codes.device)
