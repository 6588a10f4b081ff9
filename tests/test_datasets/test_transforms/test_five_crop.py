# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmseg.registry import TRANSFORMS
from torchvision.transforms.functional import five_crop

from mmuss.datasets.transforms import five_crop_boxes


@pytest.mark.parametrize(
    'height, width', [(480, 640), (1024, 2048), (101, 77)]
)
def test_boxes_match_torchvision_five_crop(height, width):
    image = torch.arange(height * width).reshape(1, height, width)
    crops = five_crop(image, [int(height * 0.5), int(width * 0.5)])
    for crop, (top, left, h, w) in zip(crops, five_crop_boxes(height, width)):
        assert torch.equal(crop, image[:, top : top + h, left : left + w])


def test_transform_crops_image_and_labels_together():
    image = np.arange(8 * 6 * 3).reshape(8, 6, 3).astype(np.uint8)
    labels = np.arange(48).reshape(8, 6).astype(np.uint8)
    for index in range(5):
        results = TRANSFORMS.build(dict(type='FiveCrop', index=index))(
            dict(
                img=image.copy(),
                gt_seg_map=labels.copy(),
                seg_fields=['gt_seg_map'],
            )
        )
        top, left, h, w = five_crop_boxes(8, 6)[index]
        assert results['img'].shape == (4, 3, 3)
        np.testing.assert_array_equal(
            results['gt_seg_map'], labels[top : top + h, left : left + w]
        )
        np.testing.assert_array_equal(
            results['img'][..., 0], image[top : top + h, left : left + w, 0]
        )
        assert results['five_crop_index'] == index


def test_random_index_covers_all_crops():
    transform = TRANSFORMS.build(dict(type='FiveCrop'))
    np.random.seed(0)
    seen = {
        transform(dict(img=np.zeros((8, 8, 3))))['five_crop_index']
        for _ in range(100)
    }
    assert seen == set(range(5))


def test_invalid_arguments():
    with pytest.raises(ValueError, match='index'):
        TRANSFORMS.build(dict(type='FiveCrop', index=5))
    with pytest.raises(ValueError, match='too small'):
        five_crop_boxes(1, 1, 0.5)
