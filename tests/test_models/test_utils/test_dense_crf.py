# Copyright (c) mmuss contributors. All rights reserved.
import os
import signal

import numpy as np
import pytest
import torch
from helpers import make_samples, tiny_segmentor_cfg

from mmuss.models.utils import DenseCRF, dense_crf
from mmuss.models.utils.dense_crf import _POOLS


def two_region_problem(seed=0, size=48, noise=0.3):
    """A two-colour image and noisy class probabilities for it."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((size, size), np.int64)
    truth[:, size // 2 :] = 1
    image = np.where(truth[..., None] == 1, [200, 40, 40], [30, 60, 200])
    image = (image + rng.normal(0, 5, image.shape)).clip(0, 255)
    flip = rng.random((size, size)) < noise
    noisy = np.where(flip, 1 - truth, truth)
    probs = np.stack([noisy == 0, noisy == 1]).astype(np.float32)
    probs = 0.35 * probs + 0.65 * 0.5  # confident but not certain
    return image.astype(np.uint8), probs, truth


def test_crf_cleans_noisy_prediction_along_colour_edges():
    image, probs, truth = two_region_problem()
    refined = dense_crf(image, probs)
    assert refined.shape == probs.shape and refined.dtype == np.float32
    np.testing.assert_allclose(refined.sum(0), 1, atol=1e-4)
    before = (probs.argmax(0) == truth).mean()
    after = (refined.argmax(0) == truth).mean()
    assert before < 0.75 and after > 0.98


def test_parallel_equals_serial():
    problems = [two_region_problem(seed) for seed in range(4)]
    images = [p[0] for p in problems]
    probs = [p[1] for p in problems]
    serial = DenseCRF(num_workers=0)(images, probs)
    parallel = DenseCRF(num_workers=2)(images, probs)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_dead_worker_raises_instead_of_hanging():
    images, probs = zip(*[two_region_problem(s)[:2] for s in range(2)])
    crf = DenseCRF(num_workers=2)
    crf(images, probs)
    for pid in list(_POOLS[2]._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match='worker process died'):
        crf(images, probs)
    assert len(crf(images, probs)) == 2  # a fresh pool is started


def test_timeout_raises():
    images, probs = zip(
        *[two_region_problem(s, size=256)[:2] for s in range(2)]
    )
    with pytest.raises(RuntimeError, match='did not finish'):
        DenseCRF(num_workers=2, timeout=1e-4)(images, probs)


def test_bad_inputs():
    image, probs, _ = two_region_problem()
    with pytest.raises(ValueError, match='uint8'):
        dense_crf(image[:10], probs)
    probs[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        dense_crf(image, probs)
    with pytest.raises(ValueError, match='unknown CRF parameters'):
        DenseCRF(iterations=5)


def test_segmentor_refines_with_crf():
    from mmseg.registry import MODELS

    cfg = tiny_segmentor_cfg(
        test_cfg=dict(mode='whole', use_crf=True, crf=dict(num_workers=0))
    )
    model = MODELS.build(cfg)
    model.init_weights()
    model.eval()
    raw = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    data = model.data_preprocessor(
        dict(inputs=list(raw), data_samples=make_samples(2, 32, 32, 3)), False
    )
    # un-normalising the model input gives back the image (as RGB)
    images = model.unnormalized_images(data['inputs'])
    np.testing.assert_array_equal(
        images[0], raw[0].flip(0).permute(1, 2, 0).numpy()
    )
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
        plain = model.inference(
            data['inputs'], [s.metainfo for s in data['data_samples']]
        )
    logits = results[0].seg_logits.data
    torch.testing.assert_close(
        logits.exp().sum(0), torch.ones(32, 32), atol=1e-4, rtol=0
    )
    assert not torch.allclose(logits, plain[0, :3])
    assert results[0].pred_linear_sem_seg.data.max() < 3
