# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..probes.cluster_probe import cosine_cluster_similarity

PROTOTYPE_INITS = ('xavier_unit', 'normal')


class EMAPrototypes(nn.Module):
    """Student prototypes with an exponential-moving-average teacher: the
    one prototype mechanism of the mmuss heads.

    K learnable student prototypes and a teacher copy updated by
    ``teacher <- m * teacher + (1 - m) * student``, never by gradient. The
    pair is SmooSeg's (Lan et al., NeurIPS 2023, Sec. 3.3: prediction by the
    teacher, m = 0.998), PriMaPs-EM's theta_S / theta_T (Eq. 11), DS²DL's
    local / global prototypes and IL2Vseg's local / global centres. Because
    the student prototypes are parameters synchronised by distributed
    training, every rank computes the same teacher.

    Scores: :meth:`cosine` similarities (SmooSeg, DS²DL, IL2Vseg, PriMaPs'
    prediction) or :meth:`dot` products with the effective prototypes (unit
    directions, times a learned per-prototype gain when ``learned_gain``:
    PriMaPs' weight-normalised classifier).

    Args:
        channels (int): Code dimension D.
        num_prototypes (int): K.
        momentum (float): m. Defaults to 0.998.
        init (str): ``'xavier_unit'`` (Xavier-normal, then L2-normalised:
            SmooSeg's start) or ``'normal'`` (standard normal, PriMaPs'
            placeholder before its principal-component start). Defaults to
            ``'xavier_unit'``.
        momentum_warmup (bool): Use ``min(m, 1 - 1 / t)`` at the t-th
            update, so that the teacher averages the students seen so far
            until ``1 / (1 - m)`` updates. Defaults to False.
        learned_gain (bool): Give each prototype a trained gain (student)
            and its moving average (teacher). Defaults to False.
    """

    def __init__(
        self,
        channels: int,
        num_prototypes: int,
        momentum: float = 0.998,
        init: str = 'xavier_unit',
        momentum_warmup: bool = False,
        learned_gain: bool = False,
    ) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        if init not in PROTOTYPE_INITS:
            raise ValueError(
                f'init must be one of {PROTOTYPE_INITS}, got {init!r}'
            )
        student = torch.empty(num_prototypes, channels)
        if init == 'xavier_unit':
            nn.init.xavier_normal_(student)
            student = F.normalize(student, dim=1)
        else:
            nn.init.normal_(student)
        self.student = nn.Parameter(student)
        self.register_buffer('teacher', student.detach().clone())
        self.register_buffer('updates', torch.zeros((), dtype=torch.long))
        self.learned_gain = learned_gain
        if learned_gain:  # weight_norm's g, per prototype
            self.student_gain = nn.Parameter(torch.ones(num_prototypes))
            self.register_buffer('teacher_gain', torch.ones(num_prototypes))
        self.momentum = momentum
        self.momentum_warmup = momentum_warmup
        self.num_prototypes = num_prototypes

    #: (B, D, H, W) codes x (K, D) prototypes -> (B, K, H, W) cosines.
    cosine = staticmethod(cosine_cluster_similarity)

    def prototypes(self, teacher: bool) -> Tensor:
        """(K, D) effective prototypes: unit directions, times the gains
        when they are learned."""
        directions = F.normalize(
            self.teacher if teacher else self.student, dim=1
        )
        if not self.learned_gain:
            return directions
        gain = self.teacher_gain if teacher else self.student_gain
        return directions * gain[:, None]

    def student_similarity(self, codes: Tensor) -> Tensor:
        """Cosines to the student prototypes (pass detached codes to keep
        the prototype loss away from the head)."""
        return self.cosine(codes, self.student)

    def teacher_similarity(self, codes: Tensor) -> Tensor:
        """Cosines to the teacher prototypes (gradient to the codes only)."""
        return self.cosine(codes, self.teacher)

    def dot(self, codes: Tensor, teacher: bool) -> Tensor:
        """Dot products (B, K, H, W) of raw codes with the effective
        prototypes."""
        return torch.einsum('bdhw,kd->bkhw', codes, self.prototypes(teacher))

    def current_momentum(self) -> float:
        """m of the next update (after ``updates`` has been counted)."""
        if self.momentum_warmup:
            return min(self.momentum, 1 - 1 / float(max(int(self.updates), 1)))
        return self.momentum

    @torch.no_grad()
    def update_teacher(self) -> None:
        """One EMA step of the teacher (and gains) towards the student."""
        self.updates += 1
        momentum = self.current_momentum()
        self.teacher.mul_(momentum).add_(
            self.student.detach(), alpha=1 - momentum
        )
        if self.learned_gain:
            self.teacher_gain.mul_(momentum).add_(
                self.student_gain.detach(), alpha=1 - momentum
            )

    @torch.no_grad()
    def copy_student_to_teacher(self) -> None:
        """teacher = student (and gains), e.g. while a phase trains the
        student alone."""
        self.teacher.copy_(self.student)
        if self.learned_gain:
            self.teacher_gain.copy_(self.student_gain)

    @torch.no_grad()
    def set_(self, prototypes: Tensor) -> None:
        """Start both sets from ``prototypes`` (K, D), gains at 1."""
        self.student.copy_(prototypes)
        self.teacher.copy_(prototypes)
        if self.learned_gain:
            self.student_gain.fill_(1.0)
            self.teacher_gain.fill_(1.0)

    @torch.no_grad()
    def reseed_(self, rows: Tensor, seeds: Tensor) -> None:
        """Replace the prototypes ``rows`` (bool mask of K) of both sets by
        ``seeds`` (n, D), gains at 1; rank 0's choice is broadcast under
        distributed training."""
        self.student.data[rows] = seeds.to(self.student)
        self.teacher[rows] = seeds.to(self.teacher)
        if self.learned_gain:
            self.student_gain.data[rows] = 1.0
            self.teacher_gain[rows] = 1.0
        if dist.is_available() and dist.is_initialized():
            dist.broadcast(self.student.data, src=0)
            dist.broadcast(self.teacher, src=0)
            if self.learned_gain:
                dist.broadcast(self.student_gain.data, src=0)
                dist.broadcast(self.teacher_gain, src=0)
