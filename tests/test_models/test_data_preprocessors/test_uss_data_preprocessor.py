# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
from helpers import make_samples
from mmseg.models.data_preprocessor import SegDataPreProcessor

from mmuss.models.data_preprocessors import USSDataPreProcessor

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def build(**kwargs):
    return USSDataPreProcessor(mean=MEAN, std=STD, bgr_to_rgb=True, **kwargs)


def test_image_only_inputs_match_mmseg():
    images = [torch.randint(0, 256, (3, 8, 10), dtype=torch.uint8)] * 2
    samples = make_samples(2, 8, 10, 3)
    ours = build(size=(16, 16))(
        dict(inputs=images, data_samples=samples), training=True
    )
    reference = SegDataPreProcessor(
        mean=MEAN, std=STD, bgr_to_rgb=True, size=(16, 16)
    )(dict(inputs=images, data_samples=make_samples(2, 8, 10, 3)), True)
    torch.testing.assert_close(ours['inputs'], reference['inputs'])


def test_stacked_maps_keep_their_own_normalisation_and_order():
    preprocessor = build(
        aux_channels=[
            dict(name='depth', mean=[2.0], std=[4.0]),
            dict(name='normal', channels=2),
        ]
    )
    assert preprocessor.num_channels == 6
    image = torch.randint(0, 256, (3, 4, 5)).float()
    depth = torch.rand(1, 4, 5) * 10
    normal = torch.rand(2, 4, 5)
    full = torch.cat([image, depth, normal])
    out = preprocessor(dict(inputs=[full]), training=False)['inputs']
    parts = preprocessor.split(out)
    assert list(parts) == ['image', 'depth', 'normal']
    expected_image = (
        image[[2, 1, 0]] - torch.tensor(MEAN).view(3, 1, 1)
    ) / torch.tensor(STD).view(3, 1, 1)
    torch.testing.assert_close(parts['image'][0], expected_image)
    torch.testing.assert_close(parts['depth'][0], (depth - 2.0) / 4.0)
    torch.testing.assert_close(parts['normal'][0], normal)
    restored = preprocessor.denormalize_image(out)
    torch.testing.assert_close(restored[0], image[[2, 1, 0]])
    # image-only views go through the same object
    view = preprocessor(dict(inputs=[image]), training=False)['inputs']
    torch.testing.assert_close(view[0], expected_image)


def test_wrong_channel_counts_and_specs_are_named():
    preprocessor = build(aux_channels=[dict(name='depth')])
    with pytest.raises(ValueError, match=r'5 channels.*3 \(the image\) or 4'):
        preprocessor(dict(inputs=[torch.zeros(5, 4, 4)]), training=False)
    with pytest.raises(ValueError, match='depth.*need 1 values'):
        build(aux_channels=[dict(name='depth', mean=[0.0, 1.0])])
    with pytest.raises(ValueError, match='unique'):
        build(aux_channels=[dict(name='image')])
    with pytest.raises(ValueError, match='std must be positive'):
        build(aux_channels=[dict(name='depth', std=[0.0])])


def test_modalities_get_the_colour_order_and_their_own_statistics():
    preprocessor = build(
        aux_channels=[
            dict(name='depth', mean=[2.0], std=[4.0]),
            dict(
                name='hha',
                channels=3,
                modality=True,
                mean=[10.0, 20.0, 30.0],
                std=[2.0, 4.0, 5.0],
            ),
        ]
    )
    assert preprocessor.modalities == ['hha']
    image = torch.randint(0, 256, (3, 4, 5)).float()
    depth = torch.rand(1, 4, 5)
    hha = torch.randint(0, 256, (3, 4, 5)).float()
    out = preprocessor(
        dict(inputs=[torch.cat([image, depth, hha])]), training=False
    )['inputs']
    parts = preprocessor.split(out)
    # decoded as BGR like the image, so reversed like the image
    expected = (
        hha[[2, 1, 0]] - torch.tensor([10.0, 20, 30]).view(3, 1, 1)
    ) / (torch.tensor([2.0, 4, 5]).view(3, 1, 1))
    torch.testing.assert_close(parts['hha'][0], expected)
    torch.testing.assert_close(parts['depth'][0], (depth - 2.0) / 4.0)
    with pytest.raises(ValueError, match="modality 'aolp' must have 3"):
        build(aux_channels=[dict(name='aolp', channels=1, modality=True)])
