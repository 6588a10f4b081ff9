# Copyright (c) mmuss contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmseg.registry import MODELS

from mmuss.models.refiners import LowLevelCueRefiner
from mmuss.models.utils.cue_fusion import low_level_visual_cue


def two_colour_scene(size=32, noise=0.3, seed=0):
    """A red left half and a blue right half, and a prediction that leans
    the right way on average but is wrong on a random share of pixels."""
    pixels = torch.zeros(1, 3, size, size)
    pixels[:, 0, :, : size // 2] = 255.0
    pixels[:, 2, :, size // 2 :] = 255.0
    truth = torch.zeros(size, size, dtype=torch.long)
    truth[:, size // 2 :] = 1
    generator = torch.Generator().manual_seed(seed)
    flipped = torch.rand(size, size, generator=generator) < noise
    label = torch.where(flipped, 1 - truth, truth)
    probs = F.one_hot(label, 2).permute(2, 0, 1)[None].float() * 0.4 + 0.3
    return probs, pixels, truth


def test_alpha_zero_is_the_identity_and_bad_arguments_fail():
    probs, pixels, _ = two_colour_scene()
    torch.testing.assert_close(
        LowLevelCueRefiner(alpha=0.0)(probs, pixels), probs
    )
    with pytest.raises(ValueError, match='alpha'):
        LowLevelCueRefiner(alpha=1.5)
    with pytest.raises(ValueError, match='stride'):
        LowLevelCueRefiner(stride=0)
    with pytest.raises(ValueError, match='share batch and size'):
        LowLevelCueRefiner()(probs, pixels[..., :16])


def test_eq13_on_probabilities_with_the_cue_on_the_feature_grid():
    probs, pixels, _ = two_colour_scene()
    refiner = LowLevelCueRefiner(alpha=0.3, stride=4, num_iters=3)
    refined = refiner(probs, pixels)
    memberships = F.adaptive_avg_pool2d(probs, (8, 8))
    cue = low_level_visual_cue(pixels / 255, memberships, num_iters=3)
    cue = F.interpolate(cue, size=(32, 32), mode='bilinear')
    torch.testing.assert_close(refined, 0.7 * probs + 0.3 * cue)
    # both terms are distributions over the clusters
    torch.testing.assert_close(refined.sum(1), torch.ones(1, 32, 32))


def test_the_cue_repairs_a_noisy_prediction_along_colour_edges():
    probs, pixels, truth = two_colour_scene(noise=0.3)
    before = (probs.argmax(1)[0] == truth).float().mean()
    refined = LowLevelCueRefiner(alpha=0.5, stride=4)(probs, pixels)
    after = (refined.argmax(1)[0] == truth).float().mean()
    # wrong pixels left only where the upsampled cue blends across the edge
    assert before < 0.75 and after > 0.97


def test_segmentor_applies_refiners_to_the_cluster_scores_only():
    torch.manual_seed(0)
    cfg = tiny_segmentor_cfg(test_cfg=dict(mode='whole'))
    model = MODELS.build(cfg).eval()
    inputs = torch.randn(2, 3, 32, 32)
    samples = make_samples(2, 32, 32, 3)
    with torch.no_grad():
        logits = model.inference(inputs, [s.metainfo for s in samples])
        model.test_cfg['refiners'] = [
            dict(type='LowLevelCueRefiner', alpha=1.0, num_iters=2)
        ]
        results = model.predict(inputs, samples)
    pixels = model.pixel_values(inputs)
    expected = LowLevelCueRefiner(alpha=1.0, num_iters=2)(
        logits[:, :3].softmax(1), pixels
    )
    for i, result in enumerate(results):
        torch.testing.assert_close(
            result.seg_logits.data, expected[i].clamp_min(1e-8).log()
        )
        linear = logits[i, 3:].argmax(0)
        assert torch.equal(result.pred_linear_sem_seg.data[0], linear)
