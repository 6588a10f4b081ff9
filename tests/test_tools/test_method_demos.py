# Copyright (c) mmuss contributors. All rights reserved.
"""Each method's demo config trains through tools/train.py (shrunk by
--cfg-options), evaluates, and logs its loss terms and the usage of its
clusters."""

import glob
import os
import os.path as osp

import pytest
from helpers import REPO_ROOT, run_tool

#: method folder -> the loss terms and usage scalars its log must show
LOGGED = {
    'ds2dl': (
        'decode.loss_pair',
        'decode.loss_l2g',
        'decode.loss_orth',
        'decode.loss_data',
    ),
    'il2vseg': (
        'decode.loss_smooth',
        'decode.loss_data',
        'decode.loss_fs',
        'decode.loss_reg',
        'decode.loss_corr',
    ),
}


def shrink_options(data_root):
    options = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.dataset.num_train=16',
            f'{loader}.dataset.num_val=8',
            f'{loader}.dataset.num_test=4',
            f'{loader}.dataset.image_size=64',
            f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
            f'{loader}.batch_size=4',
        ]
    return options + [
        'model.backbone.img_size=64',
        'model.data_preprocessor.size=(64,64)',
        'train_cfg.max_iters=2',
        'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]


@pytest.mark.parametrize('method', sorted(LOGGED))
def test_demo_trains_through_train_tool(tmp_path, method):
    work = tmp_path / 'work'
    run_tool(
        'train.py',
        osp.join(REPO_ROOT, 'configs', method, 'tiny-vit_synthetic.py'),
        '--work-dir',
        work,
        '--cfg-options',
        *shrink_options(tmp_path / 'data'),
    )
    assert (work / 'iter_2.pth').is_file()
    (log,) = glob.glob(str(work / '*' / '*.log'))
    with open(log) as file:
        text = file.read()
    for key in (*LOGGED[method], 'decode.usage_used', 'decode.usage_entropy'):
        assert key in text
    assert 'mIoU' in text
    assert os.path.isdir(work / 'val_results')


#: demos with KNN pairs (a method, or one with an MSSSeg building block)
#: -> logged terms
COMBINATIONS = {
    'mssseg/tiny-vit_synthetic.py': (
        'decode.pseudo_loss_corr',
        'decode.pseudo_loss_kmeans',
        'decode.loss_cont',
        'decode.loss_distill',
        'decode.loss_ph',
        'decode.loss_align',
        'decode.loss_dca',
        'decode.usage_entropy',
    ),
    'stego/tiny-vit_synthetic_structaug.py': (
        'decode.loss_corr',
        'decode.loss_view_corr',
        'decode.view_corr_knn',
    ),
    'stego/tiny-vit_synthetic_phloss.py': (
        'decode.loss_corr',
        'cluster_loss.loss_ph',
    ),
    # UniM2 with the synthetic depth sensor as second modality
    'unim2/tiny-vit_synthetic.py': (
        'decode.loss_cmcs',
        'decode.cmcs_image_knn',
        'decode.cmcs_depth_knn',
        'decode.cmcs_depth_rand',
    ),
}


def shrunk_config(path, tmp_path):
    """The demo config ``path`` shrunk as :func:`shrink_options` does (a
    KNN-pair training set shrunk inside its wrapper), dumped to a file."""
    from mmengine.config import Config, DictAction

    cfg = Config.fromfile(path)
    options = shrink_options(tmp_path / 'data')
    if cfg.train_dataloader.dataset.type == 'KNNPairDataset':
        options = [
            o.replace(
                'train_dataloader.dataset.',
                'train_dataloader.dataset.dataset.',
            )
            if o.startswith('train_dataloader.dataset.')
            else o
            for o in options
        ]
    parsed = {}
    for option in options:
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(parsed)
    out = tmp_path / osp.basename(path)
    cfg.dump(str(out))
    return cfg, out


@pytest.mark.parametrize('config', sorted(COMBINATIONS))
def test_building_block_combination_trains_and_tests(tmp_path, config):
    cfg, path = shrunk_config(osp.join(REPO_ROOT, 'configs', config), tmp_path)
    train_set = cfg.train_dataloader.dataset
    if train_set.type == 'KNNPairDataset':
        knn = osp.join(train_set.dataset.data_root, train_set.knn_file)
        run_tool('precompute_knn.py', path, '--out', knn, '--num-workers', 0)
    work = tmp_path / 'work'
    run_tool('train.py', path, '--work-dir', work)
    (log,) = glob.glob(str(work / '*' / '*.log'))
    with open(log) as file:
        text = file.read()
    for key in COMBINATIONS[config]:
        assert key in text
    assert 'mIoU' in text
    run_tool('test.py', path, work / 'iter_2.pth', '--work-dir', work)
