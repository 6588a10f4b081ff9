# Copyright (c) mmuss contributors. All rights reserved.
"""IL2Vseg's fusion of the head's scores and the low-level cue (Eq. 13)."""

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.utils import (
    align_cue_to_head,
    fuse_cues,
    head_cluster_overlap,
    low_level_cue,
    low_level_visual_cue,
    spatial_fuzzy_cmeans,
)


def random_case(seed, batch=2, k=3, h=4, w=4):
    gen = torch.Generator().manual_seed(seed)
    seg = 2 * torch.rand(batch, k, h, w, generator=gen) - 1
    cue = torch.rand(batch, k, h, w, generator=gen)
    return seg, cue / cue.sum(dim=1, keepdim=True)


def test_raw_fusion_is_the_printed_equation():
    seg, cue = random_case(0)
    fused = fuse_cues(seg, cue, alpha=0.25, fuse='raw')
    torch.testing.assert_close(fused, 0.75 * seg + 0.25 * cue)
    hand = fuse_cues(
        torch.tensor([[[[1.0]]]]), torch.tensor([[[[0.0]]]]), fuse='raw'
    )
    assert hand.item() == 0.5


def test_prob_fusion_adds_probabilities():
    seg, cue = random_case(1)
    fused = fuse_cues(seg, cue, alpha=0.5, temperature=0.2)
    expected = 0.5 * F.softmax(seg / 0.2, dim=1) + 0.5 * cue
    torch.testing.assert_close(fused, expected)
    # both terms are distributions over clusters, so the fusion is one too
    torch.testing.assert_close(fused.sum(dim=1), torch.ones(2, 4, 4))


def test_alpha_endpoints():
    seg, cue = random_case(2)
    torch.testing.assert_close(fuse_cues(seg, cue, 0.0, fuse='raw'), seg)
    torch.testing.assert_close(fuse_cues(seg, cue, 1.0, fuse='raw'), cue)
    torch.testing.assert_close(
        fuse_cues(seg, cue, 0.0), F.softmax(seg / 0.1, dim=1)
    )


def test_overlap_hand_computed():
    # head: pixel 0 -> cluster 0, pixel 1 -> cluster 1
    seg = torch.tensor([[[[0.9, 0.1]], [[0.2, 0.8]]]])
    cue = torch.tensor([[[[0.3, 0.6]], [[0.7, 0.4]]]])
    overlap = head_cluster_overlap(seg, cue)
    torch.testing.assert_close(
        overlap, torch.tensor([[[0.3, 0.7], [0.6, 0.4]]])
    )


def test_hungarian_alignment_undoes_a_permutation():
    seg, _ = random_case(3, batch=2, k=4)
    head = F.one_hot(seg.argmax(dim=1), 4).permute(0, 3, 1, 2).float()
    cue = 0.7 * head + 0.075  # a cue that agrees with the head
    perms = [torch.tensor([2, 0, 3, 1]), torch.tensor([1, 2, 3, 0])]
    shuffled = torch.stack([c[p] for c, p in zip(cue, perms)])
    torch.testing.assert_close(align_cue_to_head(seg, shuffled), cue)
    torch.testing.assert_close(
        fuse_cues(seg, shuffled, fuse='raw', align='hungarian'),
        fuse_cues(seg, cue, fuse='raw'),
    )


def test_head_initialised_cue_needs_no_alignment():
    # the cue clustered from the head's probabilities already agrees with
    # the head channel by channel, so Hungarian matching is the identity
    x = torch.zeros(1, 3, 4, 4)
    x[:, :, :, 2:] = 1.0
    seg = torch.full((1, 2, 4, 4), -0.5)
    seg[:, 0, :, :2] = 0.5
    seg[:, 1, :, 2:] = 0.5
    probs, _ = spatial_fuzzy_cmeans(
        x, init_memberships=F.softmax(seg / 0.1, dim=1)
    )
    cue = low_level_cue(x, probs)
    torch.testing.assert_close(align_cue_to_head(seg, cue), cue)


@pytest.mark.parametrize('fuse', ['prob', 'raw'])
@pytest.mark.parametrize('align', ['none', 'hungarian'])
def test_gradients_reach_the_head_not_the_cue(fuse, align):
    seg, cue = random_case(4)
    seg.requires_grad_(True)
    cue.requires_grad_(True)
    fuse_cues(seg, cue, fuse=fuse, align=align).pow(2).sum().backward()
    assert seg.grad is not None and seg.grad.abs().sum() > 0
    assert cue.grad is None


def test_cue_gradients_on_request():
    seg, cue = random_case(5)
    cue.requires_grad_(True)
    fuse_cues(seg, cue, detach_cue=False).sum().backward()
    torch.testing.assert_close(cue.grad, torch.full_like(cue, 0.5))


def test_gradcheck_through_the_head():
    seg, cue = random_case(6, batch=1, k=2, h=2, w=2)
    seg = seg.double().requires_grad_(True)
    cue = cue.double()
    assert torch.autograd.gradcheck(
        lambda s: fuse_cues(s, cue, temperature=0.5), (seg,)
    )


def test_arguments_are_checked():
    seg, cue = random_case(7)
    with pytest.raises(ValueError):
        fuse_cues(seg, cue[:, :2])
    with pytest.raises(ValueError):
        fuse_cues(seg, cue, alpha=1.5)
    with pytest.raises(ValueError):
        fuse_cues(seg, cue, fuse='sum')
    with pytest.raises(ValueError):
        fuse_cues(seg, cue, align='greedy')


def test_low_level_visual_cue_composes_the_equations():
    gen = torch.Generator().manual_seed(8)
    image = torch.rand(2, 3, 16, 24, generator=gen)
    init = F.softmax(torch.randn(2, 3, 2, 3, generator=gen), dim=1)
    init.requires_grad_(True)
    cue = low_level_visual_cue(
        image, init, sigma=0.2, num_iters=3, exponent='standard'
    )
    assert cue.shape == (2, 3, 2, 3) and not cue.requires_grad
    x = F.interpolate(image, (2, 3), mode='bilinear', align_corners=False)
    probs, _ = spatial_fuzzy_cmeans(
        x, init_memberships=init.detach(), num_iters=3, exponent='standard'
    )
    torch.testing.assert_close(cue, low_level_cue(x, probs, sigma=0.2))
