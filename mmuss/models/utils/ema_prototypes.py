# Copyright (c) mmuss contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class EMAPrototypes(nn.Module):
    """Student prototypes with an exponential-moving-average teacher.

    The prototype pair of SmooSeg (Lan et al., NeurIPS 2023, Sec. 3.3 and
    the upstream ``Prediction`` module), reused by IL2Vseg's local/global
    clustering centres: K learnable student prototypes (Xavier-normal, then
    L2-normalised) and a teacher copy updated by
    ``teacher <- m * teacher + (1 - m) * student`` (m = 0.998), never by
    gradient. Similarities are cosines. Because the student prototypes are
    parameters synchronised by distributed training, every rank computes the
    same teacher.

    Args:
        channels (int): Code dimension D.
        num_prototypes (int): K.
        momentum (float): m. Defaults to 0.998.
    """

    def __init__(
        self, channels: int, num_prototypes: int, momentum: float = 0.998
    ) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        student = torch.empty(num_prototypes, channels)
        nn.init.xavier_normal_(student)
        self.student = nn.Parameter(F.normalize(student, dim=1))
        self.register_buffer('teacher', self.student.detach().clone())
        self.momentum = momentum
        self.num_prototypes = num_prototypes

    @staticmethod
    def cosine(codes: Tensor, prototypes: Tensor) -> Tensor:
        """(B, D, H, W) codes x (K, D) prototypes -> (B, K, H, W) cosines."""
        return torch.einsum(
            'bdhw,kd->bkhw',
            F.normalize(codes, dim=1),
            F.normalize(prototypes, dim=1),
        )

    def student_similarity(self, codes: Tensor) -> Tensor:
        """Cosines to the student prototypes (pass detached codes to keep
        the prototype loss away from the head)."""
        return self.cosine(codes, self.student)

    def teacher_similarity(self, codes: Tensor) -> Tensor:
        """Cosines to the teacher prototypes (gradient to the codes only)."""
        return self.cosine(codes, self.teacher)

    @torch.no_grad()
    def update_teacher(self) -> None:
        """One EMA step of the teacher towards the student."""
        self.teacher.mul_(self.momentum).add_(
            self.student.detach(), alpha=1 - self.momentum
        )
