# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import torch

from mmuss.engine.hooks import principal_components


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
