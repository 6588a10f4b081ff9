# Copyright (c) mmuss contributors. All rights reserved.

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import demo_config, run_tool

from mmuss.datasets.preparation import (
    global_descriptors,
    load_knn_file,
    nearest_neighbours,
    save_knn_file,
)
from mmuss.datasets.preparation.knn import compute_descriptors


def test_descriptor_is_normalised_average():
    features = torch.randn(2, 4, 3, 3)
    expected = F.normalize(features.mean((2, 3)), dim=1)
    torch.testing.assert_close(global_descriptors(features), expected)


def test_nearest_neighbours_match_brute_force():
    torch.manual_seed(0)
    descriptors = F.normalize(torch.randn(50, 8), dim=1)
    descriptors[7] = descriptors[3]  # a duplicate image
    nns = nearest_neighbours(descriptors, k=5, chunk_size=16)
    assert nns.shape == (50, 5)
    assert (nns[:, 0] == np.arange(50)).all()  # itself first, even for 7
    similarity = (descriptors @ descriptors.T).numpy()
    for row in range(50):
        others = [j for j in np.argsort(-similarity[row]) if j != row]
        assert set(nns[row, 1:]) == set(others[:4])


def test_knn_file_round_trip_and_missing_file(tmp_path):
    path = str(tmp_path / 'nns' / 'nns_vit_small_x_train_none_224.npz')
    save_knn_file(path, np.arange(6).reshape(2, 3), ['a.png', 'b.png'])
    nns, paths = load_knn_file(path)
    assert nns.tolist() == [[0, 1, 2], [3, 4, 5]] and paths == [
        'a.png',
        'b.png',
    ]
    # upstream format: only "nns"
    np.savez(tmp_path / 'upstream.npz', nns=np.zeros((2, 30), np.int32))
    nns, paths = load_knn_file(str(tmp_path / 'upstream.npz'))
    assert nns.shape == (2, 30) and paths is None
    with pytest.raises(FileNotFoundError, match='precompute_knn.py'):
        load_knn_file(str(tmp_path / 'nowhere.npz'))


def test_descriptor_chunks_resume(tmp_path):
    calls = []

    def extract(batch):
        calls.append(len(batch['inputs']))
        return torch.stack(batch['inputs'])

    def load_batches(indices):
        return [dict(inputs=[torch.tensor([float(i)]) for i in indices])]

    parts = str(tmp_path / 'parts')
    first = compute_descriptors(
        extract, load_batches, 10, parts, dict(a=1), chunk_size=4
    )
    assert first[:, 0].tolist() == list(range(10)) and calls == [4, 4, 2]
    calls.clear()
    compute_descriptors(extract, load_batches, 10, parts, dict(a=1), 4)
    assert calls == []  # everything reused
    compute_descriptors(extract, load_batches, 10, parts, dict(a=2), 4)
    assert calls == [4, 4, 2]  # another fingerprint: recomputed


def test_tool_end_to_end(tmp_path):
    config = tmp_path / 'demo.py'
    demo_config(tmp_path / 'work', tmp_path / 'data').dump(str(config))
    out = tmp_path / 'nns.npz'
    result = run_tool(
        'precompute_knn.py',
        config,
        '--out',
        out,
        '--topk',
        5,
        '--batch-size',
        4,
        '--chunk-size',
        8,
        '--num-workers',
        0,
    )
    nns, paths = load_knn_file(str(out))
    assert nns.shape == (16, 5)
    assert (nns[:, 0] == np.arange(16)).all()
    assert paths[0] == 'images/train/00000.png'
    assert not (tmp_path / 'nns.npz.parts').exists()
    assert 'images/s' in result.stdout


def test_descriptor_dropout_zeroes_and_rescales_channels():
    features = torch.rand(2, 64, 3, 3) + 0.5
    plain = global_descriptors(features)
    dropped = global_descriptors(features, dropout=0.25, seeds=[7, 8])
    for image, seed in enumerate([7, 8]):
        keep = (
            torch.rand(64, generator=torch.Generator().manual_seed(seed))
            >= 0.25
        )
        expected = F.normalize(
            (features[image].mean(dim=(1, 2)) * keep / 0.75)[None], dim=1
        )[0]
        torch.testing.assert_close(dropped[image], expected)
        assert 0 < (~keep).sum() < 64
    assert not torch.allclose(dropped, plain)
    # the same seed gives the same mask, whatever the batch
    alone = global_descriptors(features[1:], dropout=0.25, seeds=[8])
    torch.testing.assert_close(alone[0], dropped[1])
    with pytest.raises(ValueError, match='one seed per image'):
        global_descriptors(features, dropout=0.1)


def test_natural_self_rank_is_plain_topk():
    # images 0 and 1 have identical descriptors
    descriptors = F.normalize(torch.tensor([[1.0, 0], [1.0, 0], [0, 1.0]]))
    forced = nearest_neighbours(descriptors, k=2)
    assert forced[:, 0].tolist() == [0, 1, 2]
    natural = nearest_neighbours(descriptors, k=2, self_first=False)
    expected = descriptors @ descriptors.T
    np.testing.assert_array_equal(
        natural, expected.topk(2, dim=1).indices.numpy()
    )


def test_tool_upstream_options(tmp_path):
    config = tmp_path / 'demo.py'
    demo_config(tmp_path / 'work', tmp_path / 'data').dump(str(config))
    common = ['--topk', 5, '--batch-size', 4, '--num-workers', 0]
    run_tool('precompute_knn.py', config, '--out', tmp_path / 'a.npz', *common)
    run_tool(
        'precompute_knn.py',
        config,
        '--out',
        tmp_path / 'b.npz',
        '--descriptor-dropout',
        0.5,
        '--self-rank',
        'natural',
        '--interpolation',
        'nearest',
        *common,
    )
    ours, _ = load_knn_file(str(tmp_path / 'a.npz'))
    upstream, paths = load_knn_file(str(tmp_path / 'b.npz'))
    assert upstream.shape == ours.shape == (16, 5)
    assert not np.array_equal(upstream, ours)
    assert len(paths) == 16
