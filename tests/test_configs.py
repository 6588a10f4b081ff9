# Copyright (c) mmuss contributors. All rights reserved.
"""Every shipped config loads, builds its model and its pipelines."""

import glob
import os.path as osp

import pytest
import torch
from helpers import REPO_ROOT
from mmcv.transforms import Compose
from mmengine.config import Config
from mmseg.registry import DATASETS, METRICS, MODELS

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
    + glob.glob(osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
)
# configs/selfsup holds mmpretrain pretraining configs (their own tests);
# a method folder's shared bases are named _*.py (not runnable alone)
LEAF_CONFIGS = [
    c
    for c in CONFIGS
    if '_base_' not in c
    and '/selfsup/' not in c
    and not osp.basename(c).startswith('_')
]


def config_id(path):
    return osp.relpath(path, REPO_ROOT)


def test_configs_are_found():
    assert len(LEAF_CONFIGS) >= 15


@pytest.mark.parametrize('path', LEAF_CONFIGS, ids=config_id)
def test_config_builds(path, monkeypatch):
    monkeypatch.syspath_prepend(REPO_ROOT)
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    assert 'mmuss' in cfg.custom_imports['imports']
    assert cfg.model.type == 'UnsupervisedEncoderDecoder'
    # No checkpoint selection on ground truth by default.
    assert 'save_best' not in cfg.default_hooks.get('checkpoint', {})
    try:
        with torch.device('meta'):
            model = MODELS.build(cfg.model)
    except RuntimeError as error:  # mmpretrain's ConvNeXt / Swin call .item()
        assert 'meta' in str(error), error
        model = MODELS.build(cfg.model)
    classes = DATASETS.get(cfg.val_dataloader.dataset.type).METAINFO['classes']
    assert model.num_classes == len(classes)
    assert model.num_clusters >= model.num_classes
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        while 'pipeline' not in dataset:  # dataset wrappers
            dataset = dataset.dataset
        Compose(dataset.pipeline)
    METRICS.build(cfg.val_evaluator)
    hook_types = {h['type'] for h in cfg.custom_hooks}
    assert {
        'ClassCountCheckHook',
        'CheckpointCheckHook',
        'NonFiniteCheckHook',
        'RandomStateHook',
    } <= hook_types


# Sibling configs: every other backbone of a method and dataset inherits the
# DINO ViT-S/8 leaf (``_base_ = './dino_vits8_<dataset>.py'``) and overrides
# only the backbone (that of its ``_base_/models`` file), the head width and
# what depends on them; the head block itself is inherited.
MODEL_BASES = {
    'dino_vitb8': 'uss_dino_vitb8.py',
    'dinov2_vits14': 'uss_dinov2_vits14.py',
    'dinov2_vitb14': 'uss_dinov2_vitb14.py',
    'dinov3_vits16': 'uss_dinov3_vits16.py',
    'dinov3_vitb16': 'uss_dinov3_vitb16.py',
}
# Backbones with siblings in some methods and datasets only (default: every
# dataset of every family): the UniM2 supplement's Tab. 3 rows.
PARTIAL_SIBLINGS = {
    'dinov3_vits16': {'stego': ('cocostuff27', 'cityscapes27')},
    'dinov3_vitb16': {'stego': ('cocostuff27', 'cityscapes27')},
}
EVAL_PIPELINES = {
    'test_pipeline',
    'val_dataloader.dataset.pipeline',
    'test_dataloader.dataset.pipeline',
}
SIBLING_FAMILIES = {
    # method: (datasets, head type, keys a sibling may change)
    'stego': (
        ('cocostuff27', 'cityscapes27', 'potsdam3'),
        'StegoHead',
        {
            'model.decode_head.in_channels',
            'model.decode_head.loss_corr.',
            'train_dataloader.dataset.knn_file',
        },
    ),
    'ds2dl': (
        ('cocostuff27', 'cityscapes27', 'potsdam3'),
        'DS2DLHead',
        {'model.decode_head.in_channels'},
    ),
    'mssseg': (
        ('cocostuff27', 'cityscapes27', 'potsdam3', 'pascal_voc21'),
        'MSSSegHead',
        {
            'model.decode_head.in_channels',
            'model.decode_head.pseudo_head.loss_corr.',
            'train_dataloader.dataset.knn_file',
        },
    ),
    'primaps': (
        ('cocostuff', 'cityscapes', 'potsdam'),
        'PrimapsHead',
        {
            'model.decode_head.in_channels',
            'model.data_preprocessor.size',
            'crop_size',
            'mask_dir',
            'train_pipeline',
            'train_dataloader.dataset.pipeline',
        },
    ),
}
# Families with siblings on some backbones only (default: every backbone).
FAMILY_BACKBONES = {'mssseg': ('dino_vitb8',)}
SIBLINGS = [
    (method, backbone, dataset)
    for method, (datasets, _, _) in SIBLING_FAMILIES.items()
    for backbone in FAMILY_BACKBONES.get(method, MODEL_BASES)
    for dataset in (
        PARTIAL_SIBLINGS[backbone].get(method, ())
        if backbone in PARTIAL_SIBLINGS
        else datasets
    )
]


def flatten(cfg, prefix=''):
    """Dotted key -> value of a config dict (lists are values)."""
    flat = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


@pytest.mark.parametrize(
    'method,backbone,dataset',
    SIBLINGS,
    ids=[f'{m}/{b}_{d}' for m, b, d in SIBLINGS],
)
def test_sibling_config_inherits_vits8_leaf(method, backbone, dataset):
    datasets, head_type, allowed = SIBLING_FAMILIES[method]
    folder = osp.join(REPO_ROOT, 'configs', method)
    path = osp.join(folder, f'{backbone}_{dataset}.py')
    leaf_path = osp.join(folder, f'dino_vits8_{dataset}.py')
    with open(path) as f:
        text = f.read()
    assert f"_base_ = './dino_vits8_{dataset}.py'" in text
    assert head_type not in text  # the head block is inherited
    cfg, leaf = Config.fromfile(path), Config.fromfile(leaf_path)
    model_base = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs', '_base_', 'models', MODEL_BASES[backbone]
        )
    )
    # the backbone and head width of the matching model base
    assert cfg.model.backbone == model_base.model.backbone
    assert (
        cfg.model.decode_head.in_channels
        == model_base.model.decode_head.in_channels
    )
    assert cfg.model.decode_head.type == head_type
    # nothing else differs from the leaf
    flat, flat_leaf = flatten(cfg.to_dict()), flatten(leaf.to_dict())
    changed = {
        k
        for k in flat.keys() | flat_leaf.keys()
        if flat.get(k, KeyError) != flat_leaf.get(k, KeyError)
    }
    allowed = allowed | {'model.backbone.'}
    if backbone.endswith('14'):
        allowed = allowed | EVAL_PIPELINES
    unexpected = {
        k
        for k in changed
        if k not in allowed
        and not any(k.startswith(a) for a in allowed if a.endswith('.'))
    }
    assert not unexpected, unexpected


# Ablation rows: each differs from its full config in its switch alone.
# DS²DL: Table 2 ablations and Table 3 CRF rows.
DS2DL_ROWS = {
    'dino_vits8_cityscapes27_wo-orth.py': (
        'dino_vits8_cityscapes27.py',
        {'model.decode_head.loss_cluster.loss_orth_weight': 0.0},
    ),
    'dino_vits8_cityscapes27_wo-pseudo-label.py': (
        'dino_vits8_cityscapes27.py',
        {'model.decode_head.loss_cluster.loss_data_weight': 0.0},
    ),
    'dino_vits8_cityscapes27_wo-l2g.py': (
        'dino_vits8_cityscapes27.py',
        {'model.decode_head.loss_cluster.loss_l2g_weight': 0.0},
    ),
    'dino_vits8_cityscapes27_wo-cross-pairs.py': (
        'dino_vits8_cityscapes27.py',
        {'model.decode_head.loss_affinity.cross_pairs': False},
    ),
    'dino_vits8_cityscapes27_wo-intra-pairs.py': (
        'dino_vits8_cityscapes27.py',
        {'model.decode_head.loss_affinity.intra_pairs': False},
    ),
    'dino_vits8_cocostuff27_wo-crf.py': (
        'dino_vits8_cocostuff27.py',
        {'model.test_cfg.use_crf': False},
    ),
    'dino_vits8_cityscapes27_wo-crf.py': (
        'dino_vits8_cityscapes27.py',
        {'model.test_cfg.use_crf': False},
    ),
    'dino_vitb8_potsdam3_wo-crf.py': (
        'dino_vitb8_potsdam3.py',
        {'model.test_cfg.use_crf': False},
    ),
}


# IL2Vseg: Table 4's loss rows and Fig. 5's alpha sweep (Cityscapes), the
# k-means evaluation reading and the test-time cue.
IL2VSEG_NO_FS = {
    'model.decode_head.loss_fs.loss_weight_fs': 0.0,
    'model.decode_head.loss_fs.loss_weight_reg': 0.0,
}
IL2VSEG_ROWS = {
    'dino_vits8_cityscapes27_smo.py': (
        'dino_vits8_cityscapes27.py',
        {**IL2VSEG_NO_FS, 'model.decode_head.corr_view': None},
    ),
    'dino_vits8_cityscapes27_smo-fs.py': (
        'dino_vits8_cityscapes27.py',
        {'model.decode_head.corr_view': None},
    ),
    'dino_vits8_cityscapes27_smo-corr.py': (
        'dino_vits8_cityscapes27.py',
        IL2VSEG_NO_FS,
    ),
    **{
        f'dino_vits8_cityscapes27_alpha-{alpha}.py': (
            'dino_vits8_cityscapes27.py',
            {'model.decode_head.alpha': alpha},
        )
        for alpha in (0.0, 0.25, 0.75, 1.0)
    },
    'dino_vits8_cocostuff27_kmeans.py': (
        'dino_vits8_cocostuff27.py',
        {'model.cluster_source': 'probe'},
    ),
    'dino_vits8_cocostuff27_test-cue.py': (
        'dino_vits8_cocostuff27.py',
        {
            'model.test_cfg.refiners': [
                dict(
                    type='LowLevelCueRefiner',
                    alpha=0.5,
                    stride=8,
                    sigma=0.1,
                    m=2.0,
                    num_iters=10,
                )
            ]
        },
    ),
}
# MSSSeg: Tables 2, 3, VI, VII and VIII (COCO-Stuff-27, ViT-S/8).
MSSSEG_HEAD = 'model.decode_head.'
MSSSEG_ROWS = {
    f'dino_vits8_cocostuff27_{name}.py': (
        'dino_vits8_cocostuff27.py',
        {MSSSEG_HEAD + key: value for key, value in switch.items()},
    )
    for name, switch in {
        'wo-structaug': {'aug_view': None},
        'wo-sa': {'dbc.descriptors': ('SB', 'DA', 'DB')},
        'wo-sb': {'dbc.descriptors': ('SA', 'DA', 'DB')},
        'wo-da': {'dbc.descriptors': ('SA', 'SB', 'DB')},
        'wo-db': {'dbc.descriptors': ('SA', 'SB', 'DA')},
        'lcont': {
            'loss_pixel.loss_distill_weight': 0.0,
            'loss_align.loss_weight': 0.0,
            'loss_ph.loss_weight': 0.0,
        },
        'lcont-ldistill': {
            'loss_align.loss_weight': 0.0,
            'loss_ph.loss_weight': 0.0,
        },
        'lcont-ldistill-lalign': {'loss_ph.loss_weight': 0.0},
        'boxes-g': {'dbc.box_sizes': 'g'},
        'slope': {'dbc.signature': 'slope'},
        'single-scale': {'dbc.box_sizes': (8,)},
        'avg-pool': {'dbc.pool': 'avg'},
    }.items()
}
ROWS = {'ds2dl': DS2DL_ROWS, 'il2vseg': IL2VSEG_ROWS, 'mssseg': MSSSEG_ROWS}
ABLATION_ROWS = [
    (method, row) for method, rows in ROWS.items() for row in sorted(rows)
]


@pytest.mark.parametrize(
    'method,row', ABLATION_ROWS, ids=[f'{m}/{r}' for m, r in ABLATION_ROWS]
)
def test_ablation_rows_differ_from_full_config_in_their_switch(method, row):
    folder = osp.join(REPO_ROOT, 'configs', method)
    full, switch = ROWS[method][row]
    cfg = flatten(Config.fromfile(osp.join(folder, row)).to_dict())
    ref = flatten(Config.fromfile(osp.join(folder, full)).to_dict())
    changed = {
        k: cfg.get(k, KeyError)
        for k in cfg.keys() | ref.keys()
        if cfg.get(k, KeyError) != ref.get(k, KeyError)
    }
    assert changed == switch


def test_ds2dl_paper_hyperparameters():
    """Sec. 4.3 of the paper, per dataset (r: 2.1 / 2.22 is our mapping)."""
    expected = {
        'dino_vits8_cocostuff27.py': ('RAdam', 15000, 123456, 2.1, 27),
        'dino_vits8_cityscapes27.py': ('RAdam', 8000, 0, 2.22, 27),
        'dino_vitb8_potsdam3.py': ('Adam', 4000, 0, 6.0, 3),
    }
    for name, (optim, iters, seed, r, k) in expected.items():
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'ds2dl', name))
        head = cfg.model.decode_head
        assert cfg.optim_wrapper.optimizer.type == optim
        assert cfg.train_cfg.max_iters == iters
        assert cfg.randomness.seed == seed
        assert cfg.train_dataloader.batch_size == 32
        assert head.loss_affinity.r == r and head.num_prototypes == k
        assert head.channels == 64 and head.temperature == 0.1
        assert head.momentum == 0.998
        assert head.loss_cluster.sinkhorn_iters == 3
        assert head.loss_cluster.epsilon == 0.1
        assert cfg.model.cluster_source == 'head'
        assert cfg.model.test_cfg.use_crf
    potsdam = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'ds2dl', 'dino_vitb8_potsdam3.py')
    )
    assert potsdam.test_dataloader.dataset.pipeline[2].size == 224


def test_il2vseg_resnet50_row_is_the_coco_leaf_on_moco_r50_at_stride_8():
    folder = osp.join(REPO_ROOT, 'configs', 'il2vseg')
    cfg = Config.fromfile(osp.join(folder, 'moco-r50_cocostuff27.py'))
    leaf = Config.fromfile(osp.join(folder, 'dino_vits8_cocostuff27.py'))
    base = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models', 'uss_moco_r50.py')
    )
    flat, flat_leaf = flatten(cfg.to_dict()), flatten(leaf.to_dict())
    changed = {
        k
        for k in flat.keys() | flat_leaf.keys()
        if flat.get(k, KeyError) != flat_leaf.get(k, KeyError)
    }
    assert all(
        k.startswith('model.backbone.') or k == 'model.decode_head.in_channels'
        for k in changed
    ), changed
    backbone, moco = cfg.model.backbone, base.model.backbone
    for key in ('type', 'depth', 'style', 'norm_cfg', 'init_cfg'):
        assert backbone[key] == moco[key]
    assert backbone.strides == (1, 2, 1, 1)
    assert cfg.model.decode_head.in_channels == 2048


def test_il2vseg_paper_hyperparameters():
    """Implementation Details (Adam 1e-4 / 5e-4, alpha 0.5, beta 0.05,
    gamma 0.1, K) and SmooSeg's protocol where the paper is silent."""
    expected = {
        'dino_vits8_cocostuff27.py': (27, 123456, (-0.02, 0.48)),
        'dino_vits8_cityscapes27.py': (27, 0, (-0.02, 0.5)),
        'dino_vits8_potsdam3.py': (3, 0, (0.1, 0.5)),
        'dino_vits8_mastr1325.py': (3, 0, (0.1, 0.5)),
    }
    for name, (k, seed, shifts) in expected.items():
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'il2vseg', name))
        head = cfg.model.decode_head
        assert head.type == 'IL2VsegHead' and head.num_prototypes == k
        assert cfg.model.num_classes == k
        assert head.alpha == 0.5 and head.corr_view == 'inv_img'
        assert head.loss_fs.loss_weight_fs == 0.1
        assert head.loss_fs.loss_weight_reg == 0.05
        smooth = head.loss_smooth
        assert (smooth.shift_self, smooth.shift_rand) == shifts
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.optim_wrapper.optimizer.lr == 1e-4
        keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
        assert keys['decode_head.prototypes'].lr_mult == 5.0
        assert cfg.train_cfg.max_iters == 3000
        assert cfg.train_dataloader.batch_size == 32
        assert cfg.randomness.seed == seed
        assert cfg.model.cluster_source == 'head'
        assert cfg.model.test_cfg.use_crf
        assert 'refiners' not in cfg.model.test_cfg


METHOD_LEAF_CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'ds2dl', 'dino*.py'))
    + glob.glob(osp.join(REPO_ROOT, 'configs', 'il2vseg', 'dino*.py'))
)


@pytest.mark.parametrize('path', METHOD_LEAF_CONFIGS, ids=config_id)
def test_method_config_trains_a_step_with_tiny_backbone(path, monkeypatch):
    """The config's model, its backbone swapped for the tests' tiny ViT,
    takes one optimizer step built from the config's optim_wrapper."""
    from helpers import TINY_VIT, make_samples
    from mmengine.optim import build_optim_wrapper

    monkeypatch.syspath_prepend(REPO_ROOT)
    cfg = Config.fromfile(path)
    cfg.model.backbone = dict(TINY_VIT)
    cfg.model.decode_head.in_channels = 32
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.model.linear_probe = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = dict(
        inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)] * 3,
        data_samples=make_samples(3, 32, 32, model.num_classes),
    )
    before = {
        name: p.detach().clone()
        for name, p in model.decode_head.named_parameters()
    }
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    assert 'decode.usage_entropy' in log_vars
    after = dict(model.decode_head.named_parameters())
    moved = [n for n, p in before.items() if not torch.equal(after[n], p)]
    # the projection (and DS²DL's affinity bias) train in one step
    assert any('projection' in n for n in moved), moved
    if '/ds2dl/' in path:
        assert 'loss_affinity.bias' in moved


MSSSEG_CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'mssseg', 'dino_vits8*.py'))
)


@pytest.mark.parametrize('path', MSSSEG_CONFIGS, ids=config_id)
def test_mssseg_config_trains_a_step_with_tiny_backbone(path, monkeypatch):
    """The config's model on the tests' tiny ViT takes one optimizer step
    from its optim_wrapper on images with a depth map (and KNN positives),
    StructAug's scalars included, and predicts."""
    from helpers import TINY_VIT, make_samples
    from mmengine.optim import build_optim_wrapper
    from mmengine.structures import PixelData

    monkeypatch.syspath_prepend(REPO_ROOT)
    cfg = Config.fromfile(path)
    cfg.model.backbone = dict(TINY_VIT)
    cfg.model.decode_head.in_channels = 32
    cfg.model.decode_head.dca.update(embed_dims=32, feedforward_channels=64)
    cfg.model.decode_head.loss_ph.num_workers = 0
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.model.linear_probe = None
    cfg.model.test_cfg.use_crf = False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    samples = make_samples(3, 32, 32, model.num_classes)
    for sample in samples:
        sample.set_metainfo(dict(aux_channels=(('depth', 1),)))
        sample.knn_img = PixelData(data=torch.rand(4, 32, 32) * 255)
    image = [torch.cat([torch.rand(3, 32, 32) * 255, torch.rand(1, 32, 32)])]
    data = dict(inputs=image * 3, data_samples=samples)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    after = dict(model.named_parameters())
    moved = {n for n, p in before.items() if not torch.equal(after[n], p)}
    head = cfg.model.decode_head
    assert any(n.startswith('decode_head.seg_head.') for n in moved)
    assert any(n.startswith('decode_head.dca.') for n in moved)
    if head.aug_view:
        assert any(n.startswith('view_generators.structaug.') for n in moved)
    model.eval()
    with torch.no_grad():
        results = model.val_step(dict(inputs=image, data_samples=samples[:1]))
    assert results[0].pred_sem_seg.data.max() < head.num_prototypes
