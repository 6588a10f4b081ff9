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


def test_kmeans_init_is_spherical_kmeans_of_the_features():
    from types import SimpleNamespace

    import torch.nn.functional as F
    from helpers import make_samples, tiny_segmentor_cfg
    from mmseg.registry import MODELS

    from mmuss.engine.hooks import PrimapsInitHook
    from mmuss.models.probes.cluster_probe import spherical_kmeans

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
    batches = [
        dict(
            inputs=[
                torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                for _ in range(2)
            ],
            data_samples=make_samples(2, 32, 32, 3, seed=seed),
        )
        for seed in range(2)
    ]
    runner = SimpleNamespace(model=model, train_dataloader=batches)
    PrimapsInitHook(num_images=4, kmeans_iters=5, init='kmeans').before_train(
        runner
    )
    head = model.decode_head
    assert bool(head.initialized) and int(head.kmeans_iters) == 5
    with torch.no_grad():
        feats = torch.cat(
            [
                model.extract_feat(model.data_preprocessor(b, True)['inputs'])[
                    -1
                ]
                for b in batches
            ]
        )
    points = feats.permute(0, 2, 3, 1).reshape(-1, 32)
    expected = spherical_kmeans(
        points, 3, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(head.student.data, F.normalize(expected))
    torch.testing.assert_close(head.teacher, head.student.data)
