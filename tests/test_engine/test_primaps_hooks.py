# Copyright (c) mmuss contributors. All rights reserved.
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import make_samples, tiny_segmentor_cfg
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmuss.engine.hooks import (
    PrimapsEMAHook,
    PrimapsInitHook,
    principal_components,
)
from mmuss.models.decode_heads import PrimapsHead
from mmuss.models.probes.cluster_probe import spherical_kmeans
from mmuss.models.utils import mask_mean_features


def test_principal_components_match_numpy_pca():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 2.0
    feats_t = torch.from_numpy(feats)
    components = principal_components(
        feats_t.sum(0), feats_t.T @ feats_t, torch.tensor(500.0), 3
    )
    values, vectors = np.linalg.eigh(np.cov(feats.T, bias=True))
    expected = vectors[:, ::-1][:, :3].T
    np.testing.assert_allclose(
        np.abs((components.numpy() * expected).sum(1)), 1, atol=1e-6
    )
    # oriented towards the data mean
    assert (components.numpy() @ feats.mean(0) >= 0).all()


def _initialise_on_random_batches(init):
    """A tiny PriMaPs segmentor initialised by PrimapsInitHook(init) on two
    random batches whose proposals split each image into left and right
    halves (the right half of the second image in no mask); returns the
    model, the backbone features of the batches and their mask maps."""
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_segmentor_cfg(
            decode_head=dict(
                type='PrimapsHead', in_channels=32, num_prototypes=3
            ),
            cluster_source='head',
            cluster_probe=None,
        )
    )
    model.init_weights()
    masks = torch.full((4, 32, 32), 1, dtype=torch.long)
    masks[:, :, 16:] = 2
    masks[1, :, 16:] = 255
    batches = []
    for seed in range(2):
        samples = make_samples(2, 32, 32, 3, seed=seed)
        for sample, mask in zip(samples, masks[2 * seed :]):
            sample.primaps_map = PixelData(data=mask[None])
        inputs = [
            torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
            for _ in range(2)
        ]
        batches.append(dict(inputs=inputs, data_samples=samples))
    runner = SimpleNamespace(model=model, train_dataloader=batches)
    PrimapsInitHook(num_images=4, kmeans_iters=5, init=init).before_train(
        runner
    )
    with torch.no_grad():
        feats = torch.cat(
            [
                model.extract_feat(model.data_preprocessor(b, True)['inputs'])[
                    -1
                ]
                for b in batches
            ]
        )
    return model, feats, masks


@pytest.mark.parametrize('init', ['kmeans', 'mask_kmeans'])
def test_kmeans_inits_are_spherical_kmeans_of_their_features(init):
    model, feats, masks = _initialise_on_random_batches(init)
    head = model.decode_head
    assert bool(head.initialized) and int(head.kmeans_iters) == 5
    if init == 'kmeans':
        points = feats.permute(0, 2, 3, 1).reshape(-1, 32)
    else:  # one row per patch in a mask, its mask's mean feature
        points = mask_mean_features(feats, masks)
        assert len(points) == 4 * 4 * 4 - 4 * 2
    expected = spherical_kmeans(
        points, 3, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(
        head.prototypes.student.data, F.normalize(expected)
    )
    torch.testing.assert_close(
        head.prototypes.teacher, head.prototypes.student.data
    )


def test_unknown_init_is_reported():
    with pytest.raises(ValueError, match="'mask_kmeans'"):
        PrimapsInitHook(init='kmeans++')


@pytest.mark.parametrize('reset', [True, False])
def test_em_starts_with_a_fresh_optimizer_state(reset):
    head = PrimapsHead(in_channels=8, num_prototypes=3)
    head.set_prototypes(torch.randn(3, 8), 1)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)
    head.prototypes.student.sum().backward()
    optimizer.step()  # the k-means phase's moments
    head.steps.fill_(1)
    runner = SimpleNamespace(
        model=SimpleNamespace(decode_head=head),
        optim_wrapper=SimpleNamespace(optimizer=optimizer),
    )
    PrimapsEMAHook(reset_optimizer=reset).before_train_iter(runner, 0)
    assert (len(optimizer.state) == 0) == reset
