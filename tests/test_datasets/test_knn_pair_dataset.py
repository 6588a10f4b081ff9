# Copyright (c) mmuss contributors. All rights reserved.
import numpy as np
import pytest

from mmuss.datasets import KNNPairDataset, SyntheticScenesDataset
from mmuss.datasets.preparation import save_knn_file

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]


@pytest.fixture
def scenes(tmp_path):
    root = str(tmp_path / 'scenes')
    SyntheticScenesDataset(
        data_root=root, num_train=10, num_val=2, image_size=32
    )
    return root


def inner(root):
    return dict(
        type='SyntheticScenesDataset',
        data_root=root,
        generate=False,
        pipeline=PIPELINE,
    )


def test_positive_from_ranks_one_to_seven(scenes):
    nns = np.array(
        [[i] + [(i + r) % 10 for r in range(1, 10)] for i in range(10)]
    )
    paths = [f'images/train/{i:05d}.png' for i in range(10)]
    save_knn_file(f'{scenes}/nns/knn.npz', nns, paths)
    dataset = KNNPairDataset(inner(scenes), 'nns/knn.npz', num_neighbors=7)
    np.random.seed(0)
    ranks = {(dataset.positive_index(3) - 3) % 10 for _ in range(300)}
    assert ranks == set(range(1, 8))
    sample = dataset[2]
    knn = sample['data_samples'].knn_img.data
    assert knn.shape == sample['inputs'].shape
    path = sample['data_samples'].knn_img_path
    assert path != sample['data_samples'].img_path
    assert 'gt_sem_seg' not in sample['data_samples']
    assert dataset.metainfo['classes'][0] == 'sky'


def test_reordered_file_is_aligned_by_image_path(scenes):
    dataset = SyntheticScenesDataset(
        data_root=scenes, generate=False, pipeline=PIPELINE
    )
    paths = [f'images/train/{i:05d}.png' for i in range(10)]
    order = np.arange(10)[::-1]  # the file lists images in reverse
    nns_ours = np.array([[i, (i + 1) % 10] + [i] * 8 for i in range(10)])
    nns_file = np.empty_like(nns_ours)
    position = {o: f for f, o in enumerate(order)}  # ours -> file row
    for ours in range(10):
        nns_file[position[ours]] = [position[j] for j in nns_ours[ours]]
    save_knn_file(f'{scenes}/nns/rev.npz', nns_file, [paths[o] for o in order])
    wrapped = KNNPairDataset(dataset, 'nns/rev.npz', num_neighbors=1)
    np.testing.assert_array_equal(wrapped.neighbours, nns_ours)


def test_mismatches_are_reported(scenes):
    with pytest.raises(FileNotFoundError, match='tools/precompute_knn.py'):
        KNNPairDataset(inner(scenes), 'nns/missing.npz')
    save_knn_file(
        f'{scenes}/nns/short.npz', np.zeros((4, 30), int), ['a.png'] * 4
    )
    with pytest.raises(ValueError, match='4 rows but the dataset has 10'):
        KNNPairDataset(inner(scenes), 'nns/short.npz')
    paths = [f'images/train/{i:05d}.png' for i in range(10)]
    save_knn_file(f'{scenes}/nns/few.npz', np.zeros((10, 5), int), paths)
    with pytest.raises(ValueError, match='keeps 5 neighbours'):
        KNNPairDataset(inner(scenes), 'nns/few.npz')
    save_knn_file(
        f'{scenes}/nns/other.npz',
        np.zeros((10, 8), int),
        [f'elsewhere/{i}.png' for i in range(10)],
    )
    with pytest.raises(ValueError, match='made for another dataset'):
        KNNPairDataset(inner(scenes), 'nns/other.npz')


def test_upstream_files_need_a_declared_list_order(scenes):
    # an upstream STEGO file: rows only, no image paths
    nns = np.array(
        [[i] + [(i + r) % 10 for r in range(1, 9)] for i in range(10)]
    )
    save_knn_file(f'{scenes}/nns/upstream.npz', nns)
    with pytest.raises(ValueError, match='no image paths') as info:
        KNNPairDataset(inner(scenes), 'nns/upstream.npz')
    assert 'Cityscapes' in str(info.value)
    # declared, but the dataset is a folder scan: still refused
    with pytest.raises(ValueError, match='not read from an image list'):
        KNNPairDataset(
            inner(scenes), 'nns/upstream.npz', upstream_order='list'
        )
    # read from a list in upstream's order: rows are the list's
    with open(f'{scenes}/train_list.txt', 'w') as file:
        file.writelines(f'{i:05d}\n' for i in reversed(range(10)))
    listed = dict(inner(scenes), ann_file='train_list.txt')
    listed['data_prefix'] = dict(
        img_path='images/train', seg_map_path='annotations/train'
    )
    dataset = KNNPairDataset(listed, 'nns/upstream.npz', upstream_order='list')
    np.testing.assert_array_equal(dataset.neighbours, nns)
    assert dataset.dataset.get_data_info(0)['img_path'].endswith('00009.png')
    with pytest.raises(ValueError, match='upstream_order'):
        KNNPairDataset(listed, 'nns/upstream.npz', upstream_order='sorted')
