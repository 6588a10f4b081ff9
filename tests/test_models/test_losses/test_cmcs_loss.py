# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch

from mmuss.models.losses import CMCSLoss, StegoCorrespondenceLoss, cmcs_total

IMAGE = dict(
    weight_self=0.1,
    weight_knn=0.2,
    weight_rand=0.9,
    shift_self=0.7,
    shift_knn=0.6,
    shift_rand=0.5,
    loss_weight=0.14,
)
DEPTH = dict(
    weight_self=0.6,
    weight_knn=0.3,
    weight_rand=0.05,
    shift_self=0.1,
    shift_knn=0.4,
    shift_rand=0.2,
    loss_weight=0.89,
)


def tensors(seed, channels):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(4, channels, 5, 5, generator=generator)


def test_cmcs_total_is_the_weighted_sum():
    losses = {'image': torch.tensor(2.0), 'hha': torch.tensor(-1.0)}
    total = cmcs_total(losses, {'image': 0.5, 'hha': 3.0})
    assert total.item() == pytest.approx(0.5 * 2 - 3)
    with pytest.raises(KeyError, match='hha'):
        cmcs_total(losses, {'image': 1.0})


@pytest.mark.parametrize('share_sampling', [False, True])
def test_cmcs_equals_the_stego_loss_called_by_hand(share_sampling):
    """Each modality's term is StegoCorrespondenceLoss on that modality's
    features against its own code, with its weights and shifts; the total
    is the modality-weighted sum (Eq. 7 / Eq. 9). Reproduced with the same
    random draws."""
    feats = {'image': tensors(0, 6), 'hha': tensors(1, 6)}
    codes = {'image': tensors(2, 3), 'hha': tensors(3, 3)}
    knn_feats = {'image': tensors(4, 6), 'hha': tensors(5, 6)}
    knn_codes = {'image': tensors(6, 3), 'hha': tensors(7, 3)}
    shared = dict(num_samples=3, num_negatives=2, centering='stego')
    cmcs = CMCSLoss(
        dict(image=IMAGE, hha=DEPTH), share_sampling=share_sampling, **shared
    )
    torch.manual_seed(11)
    losses = cmcs(feats, codes, knn_feats, knn_codes)

    torch.manual_seed(11)
    by_hand = {}
    draws = {}
    for name, spec in (('image', IMAGE), ('hha', DEPTH)):
        spec = dict(spec)
        spec.pop('loss_weight')
        stego = StegoCorrespondenceLoss(**spec, **shared)
        if share_sampling and not draws:
            draws = dict(
                coords1=stego.random_coords(4, 'cpu'),
                coords2=stego.random_coords(4, 'cpu'),
                permutations=stego.negative_permutations(4, 'cpu'),
            )
        by_hand[name] = stego(
            feats[name], codes[name], knn_feats[name], knn_codes[name], **draws
        )
    expected = (
        0.14 * by_hand['image']['loss_corr']
        + 0.89 * by_hand['hha']['loss_corr']
    )
    torch.testing.assert_close(losses['loss_cmcs'], expected)
    for name in ('image', 'hha'):
        for term in ('self', 'knn', 'rand'):
            torch.testing.assert_close(
                losses[f'cmcs_{name}_{term}'], by_hand[name][f'corr_{term}']
            )


def test_cmcs_default_modality_weight_is_one_over_m():
    image = {k: v for k, v in IMAGE.items() if k != 'loss_weight'}
    cmcs = CMCSLoss(dict(image=image, a=image, b=image))
    assert cmcs.weights == {'image': 1 / 3, 'a': 1 / 3, 'b': 1 / 3}


def test_cmcs_names_missing_modalities_and_shared_keys():
    cmcs = CMCSLoss(dict(image=IMAGE, hha=DEPTH), num_samples=3)
    with pytest.raises(KeyError, match="'hha'"):
        cmcs({'image': tensors(0, 6)}, {'image': tensors(1, 3)})
    with pytest.raises(ValueError, match='num_samples'):
        CMCSLoss(dict(image=dict(IMAGE, num_samples=3)))
