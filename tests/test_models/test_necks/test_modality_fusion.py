# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmuss.models.necks import ModalityFusion


def maps(count=2, channels=4):
    generator = torch.Generator().manual_seed(0)
    return [
        torch.randn(2, channels, 3, 3, generator=generator)
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    'mode, reduce',
    [
        ('mean', lambda a, b: (a + b) / 2),
        ('sum', lambda a, b: a + b),
        ('max', torch.maximum),
    ],
)
def test_elementwise_modes_by_hand(mode, reduce):
    first, second = maps()
    fusion = ModalityFusion(4, 2, mode=mode)
    torch.testing.assert_close(fusion([first, second]), reduce(first, second))
    normalised = ModalityFusion(4, 2, mode=mode, normalize=True)
    torch.testing.assert_close(
        normalised([first, second]),
        reduce(F.normalize(first, dim=1), F.normalize(second, dim=1)),
    )
    assert not list(fusion.parameters())


def test_concat_conv_widths_and_gradient():
    first, second, third = maps(3)
    fusion = ModalityFusion(4, 3, mode='concat_conv', out_channels=6)
    assert fusion.project[0].in_channels == 12
    assert fusion.project[0].out_channels == (12 + 6) // 2
    out = fusion([first, second, third])
    assert out.shape == (2, 6, 3, 3)
    # the same as the two convolutions on the concatenation, by hand
    hidden = F.relu(
        F.conv2d(
            torch.cat([first, second, third], 1),
            fusion.project[0].weight,
            fusion.project[0].bias,
        )
    )
    expected = F.conv2d(
        hidden, fusion.project[2].weight, fusion.project[2].bias
    )
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    assert fusion.project[0].weight.grad.abs().sum() > 0


def test_bad_arguments_are_named():
    first, second = maps()
    with pytest.raises(ValueError, match='mode'):
        ModalityFusion(4, 2, mode='attention')
    with pytest.raises(ValueError, match='out_channels=8 needs'):
        ModalityFusion(4, 2, mode='mean', out_channels=8)
    with pytest.raises(ValueError, match='built for 3 modalities, got 2'):
        ModalityFusion(4, 3)([first, second])
    with pytest.raises(ValueError, match='differ in shape'):
        ModalityFusion(4, 2)([first, second[:, :2]])


def test_progressive_conv_reduces_one_modality_at_a_time():
    """MCubeS' fusion in the UniM2 code: 4*C -> 3*C -> 2*C -> C -> C_out,
    BN + ReLU between the convolutions; checked against the layers applied
    by hand (BN in eval mode with set statistics)."""
    feature_maps = maps(4)
    fusion = ModalityFusion(4, 4, mode='progressive_conv', out_channels=5)
    convs = [m for m in fusion.project if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in fusion.project if isinstance(m, torch.nn.BatchNorm2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [
        (16, 12),
        (12, 8),
        (8, 4),
        (4, 5),
    ]
    assert len(norms) == 3
    for index, norm in enumerate(norms):
        norm.running_mean.fill_(0.1 * index)
        norm.running_var.fill_(1.0 + index)
    fusion.eval()
    out = torch.cat(feature_maps, 1)
    for position, conv in enumerate(convs):
        out = F.conv2d(out, conv.weight, conv.bias)
        if position < 3:
            norm = norms[position]
            out = (out - norm.running_mean[:, None, None]) / torch.sqrt(
                norm.running_var[:, None, None] + norm.eps
            )
            out = F.relu(out * norm.weight[:, None, None])
    torch.testing.assert_close(fusion(feature_maps), out)


def test_progressive_conv_of_two_modalities_halves_then_projects():
    fusion = ModalityFusion(4, 2, mode='progressive_conv')
    convs = [m for m in fusion.project if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(8, 4), (4, 4)]
    assert fusion(maps(2)).shape == (2, 4, 3, 3)
