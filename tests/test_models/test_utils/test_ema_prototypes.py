# Copyright (c) mmuss contributors. All rights reserved.
"""The one prototype mechanism shared by the prototype heads."""

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.decode_heads import PrimapsHead, SmooSegHead
from mmuss.models.utils import EMAPrototypes


def test_update_rule():
    prototypes = EMAPrototypes(4, 3, momentum=0.9)
    torch.testing.assert_close(prototypes.teacher, prototypes.student.data)
    torch.testing.assert_close(prototypes.student.norm(dim=1), torch.ones(3))
    with torch.no_grad():
        prototypes.student.add_(1.0)
    before = prototypes.teacher.clone()
    prototypes.update_teacher()
    torch.testing.assert_close(
        prototypes.teacher, 0.9 * before + 0.1 * prototypes.student.data
    )
    assert not prototypes.teacher.requires_grad
    assert int(prototypes.updates) == 1


def test_momentum_warmup_averages_the_students_seen():
    # with min(m, 1 - 1/t) the teacher after t <= 1/(1-m) updates is the
    # plain mean of the t students it was updated towards
    prototypes = EMAPrototypes(2, 1, momentum=0.9, momentum_warmup=True)
    students = [torch.tensor([[float(t), -2.0 * t]]) for t in range(1, 6)]
    for student in students:
        prototypes.student.data.copy_(student)
        prototypes.update_teacher()
    torch.testing.assert_close(
        prototypes.teacher, torch.stack(students).mean(0)
    )
    for _ in range(20):  # then the momentum is capped at m
        prototypes.update_teacher()
    assert prototypes.current_momentum() == 0.9


def test_learned_gain_dot_set_and_reseed():
    prototypes = EMAPrototypes(3, 2, init='normal', learned_gain=True)
    prototypes.set_(torch.tensor([[2.0, 0, 0], [0, 0, 5.0]]))
    prototypes.student_gain.data = torch.tensor([3.0, 0.5])
    codes = torch.tensor([1.0, 2.0, 4.0]).reshape(1, 3, 1, 1)
    # g_k * (v_k / |v_k|) . f
    assert prototypes.dot(codes, teacher=False).flatten().tolist() == [
        3.0,
        2.0,
    ]
    assert prototypes.dot(codes, teacher=True).flatten().tolist() == [1.0, 4.0]
    cosines = prototypes.teacher_similarity(codes).flatten()
    torch.testing.assert_close(
        cosines, torch.tensor([1.0, 4.0]) / torch.tensor(21.0).sqrt()
    )
    seed = F.normalize(torch.tensor([[1.0, 1.0, 0]]), dim=1)
    prototypes.reseed_(torch.tensor([True, False]), seed)
    torch.testing.assert_close(prototypes.student.data[0], seed[0])
    torch.testing.assert_close(prototypes.teacher[0], seed[0])
    assert prototypes.student_gain.tolist() == [1.0, 0.5]
    prototypes.copy_student_to_teacher()
    assert prototypes.teacher_gain.tolist() == [1.0, 0.5]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match='momentum'):
        EMAPrototypes(2, 2, momentum=1.0)
    with pytest.raises(ValueError, match='init'):
        EMAPrototypes(2, 2, init='orthogonal')


def test_prototype_heads_share_the_mechanism():
    smooseg = SmooSegHead(in_channels=8, num_prototypes=3)
    primaps = PrimapsHead(in_channels=8, num_prototypes=3, ema_warmup=True)
    assert isinstance(smooseg.prototypes, EMAPrototypes)
    assert isinstance(primaps.prototypes, EMAPrototypes)
    assert primaps.prototypes.momentum_warmup
    assert primaps.prototypes.momentum == 0.98
