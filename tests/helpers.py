# Copyright (c) mmuss contributors. All rights reserved.
"""Builders shared by the tests: tiny models and configs."""

import copy
import os
import os.path as osp
import subprocess
import sys

import cv2
import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmuss.datasets.transforms import dense_map_path


class ProjectionCodeHead:
    """Mixin of the tests' toy heads: a 1x1 projection of the features
    to the codes (combine with ``BaseCodeHead``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.projection = torch.nn.Conv2d(self.in_channels, self.channels, 1)

    def forward(self, inputs):
        return self.projection(self._transform_inputs(inputs))


REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'baseline', 'tiny-vit_synthetic.py'
)

TINY_VIT = dict(
    type='DINOVisionTransformer',
    arch=dict(
        embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64
    ),
    patch_size=8,
    img_size=32,
    init_cfg=None,
)


def tiny_segmentor_cfg(
    num_classes=3, num_clusters=None, linear=True, **overrides
):
    """Config of an unsupervised segmentor on a 2-layer, 32-d ViT."""
    cfg = dict(
        type='UnsupervisedEncoderDecoder',
        data_preprocessor=dict(
            type='USSDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size=(32, 32),
        ),
        backbone=copy.deepcopy(TINY_VIT),
        decode_head=dict(type='IdentityHead', in_channels=32),
        num_classes=num_classes,
        cluster_probe=dict(
            type='ClusterProbe', num_clusters=num_clusters or num_classes
        ),
        linear_probe=dict(type='LinearProbe') if linear else None,
        test_cfg=dict(mode='whole'),
    )
    cfg.update(overrides)
    return cfg


def tiny_stego_cfg(**overrides):
    """:func:`tiny_segmentor_cfg` with a small STEGO head (8-d codes, 3x3
    sample points)."""
    return tiny_segmentor_cfg(
        decode_head=dict(
            type='StegoHead',
            in_channels=32,
            channels=8,
            loss_corr=dict(type='StegoCorrespondenceLoss', num_samples=3),
        ),
        **overrides,
    )


def make_samples(batch_size, height, width, num_classes, with_gt=True, seed=0):
    """SegDataSamples with random labels and plausible metainfo."""
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for index in range(batch_size):
        sample = SegDataSample(
            metainfo=dict(
                img_path=f'img_{index}.png',
                seg_map_path=f'label_{index}.png',
                ori_shape=(height, width),
                img_shape=(height, width),
                pad_shape=(height, width),
                padding_size=[0, 0, 0, 0],
            )
        )
        if with_gt:
            labels = torch.randint(
                0, num_classes, (1, height, width), generator=generator
            )
            sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return samples


def demo_config(
    work_dir, data_root, max_iters=20, val_interval=20, **train_overrides
):
    """The embedded demo config, shrunk for tests."""
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.work_dir = str(work_dir)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(data_root)
        cfg[loader].dataset.num_train = 16
        cfg[loader].dataset.num_val = 8
        cfg[loader].dataset.num_test = 4
        cfg[loader].dataset.image_size = 64
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
        cfg[loader].batch_size = 4
    cfg.model.backbone.img_size = 64
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = val_interval
    cfg.default_hooks.checkpoint.interval = val_interval
    cfg.default_hooks.logger.interval = 5
    cfg.merge_from_dict(train_overrides)
    return cfg


PRIMAPS_DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'primaps', 'tiny-vit_synthetic.py'
)


def primaps_demo_config(
    work_dir, data_root, max_epochs=4, kmeans_epochs=1, online=True
):
    """The PriMaPs-EM demo config, shrunk for tests: 16 training images of
    64 px in batches of 4; proposals computed on line (``online``) or read
    from the files of ``tools/precompute_primaps.py``."""
    cfg = Config.fromfile(PRIMAPS_DEMO_CONFIG)
    cfg.work_dir = str(work_dir)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        dataset.update(
            data_root=str(data_root),
            num_train=16,
            num_val=8,
            num_test=4,
            image_size=64,
        )
        cfg[loader].update(
            num_workers=0, persistent_workers=False, batch_size=4
        )
    pipeline = cfg.train_dataloader.dataset.pipeline
    for transform in pipeline:
        if transform['type'] == 'ResizeCenterCrop':
            transform['size'] = 64
        if transform['type'] == 'PackUSSInputs' and online:
            transform['map_fields'] = []
    if online:
        cfg.train_dataloader.dataset.pipeline = [
            t for t in pipeline if t['type'] != 'LoadPseudoMask'
        ]
    cfg.model.decode_head.online_proposals = online
    cfg.model.backbone.img_size = 64
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.train_cfg.update(max_epochs=max_epochs, val_interval=max_epochs)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.logger.interval = 2
    for hook in cfg.custom_hooks:
        if hook['type'] == 'PrimapsInitHook':
            hook.update(num_images=16, kmeans_epochs=kmeans_epochs)
    return cfg


def run_tool(script, *args, check=True, timeout=600):
    """Run ``python tools/<script> args`` from the repository root; with
    ``check``, fail the test (showing stderr) on a non-zero exit. Returns
    the completed process."""
    result = subprocess.run(
        [sys.executable, osp.join('tools', script), *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


DEPTH_PREPROCESSOR = dict(
    type='USSDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(32, 32),
    aux_channels=[dict(name='depth', mean=[5.0], std=[2.0])],
)


def write_depth_maps(data_root):
    """A 16-bit depth PNG per scene: a fixed random depth per class plus a
    vertical ramp, in millimetres."""
    depth_of_class = np.random.default_rng(0).integers(1000, 9000, 256)
    for split in ('train', 'val', 'test'):
        folder = osp.join(data_root, 'annotations', split)
        for name in sorted(os.listdir(folder)):
            label = mmcv.imread(osp.join(folder, name), 'unchanged')
            ramp = np.linspace(0, 2000, label.shape[0])[:, None]
            depth = (depth_of_class[label] + ramp).astype(np.uint16)
            img_path = osp.join(data_root, 'images', split, name)
            path = dense_map_path(img_path, data_root, 'depth', '.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            assert cv2.imwrite(path, depth)


def depth_demo_config(work_dir, data_root, **kwargs):
    """:func:`demo_config` with a 16-bit depth map per scene stacked onto
    the image (LoadDenseMap, PackUSSInputs, USSDataPreProcessor); the
    scenes and maps are written here."""
    load = dict(type='LoadDenseMap', name='depth', map_dir='depth', scale=1e-3)
    return stacked_demo_config(
        work_dir,
        data_root,
        load,
        DEPTH_PREPROCESSOR,
        write_depth_maps,
        **kwargs,
    )


MODALITY_PREPROCESSOR = dict(
    type='USSDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(32, 32),
    aux_channels=[
        dict(
            name='colourmap',
            channels=3,
            modality=True,
            mean=[127.5] * 3,
            std=[64.0] * 3,
        )
    ],
)


def write_modality_images(data_root):
    """A second modality per scene for the multi-modal route's tests: the
    label map through a fixed random colour map (8-bit BGR PNG). Derived
    from labels, so a test fixture only, never a training signal."""
    colour_of_class = np.random.default_rng(1).integers(0, 256, (256, 3))
    for split in ('train', 'val', 'test'):
        folder = osp.join(data_root, 'annotations', split)
        for name in sorted(os.listdir(folder)):
            label = mmcv.imread(osp.join(folder, name), 'unchanged')
            img_path = osp.join(data_root, 'images', split, name)
            path = dense_map_path(img_path, data_root, 'colourmap', '.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            assert cv2.imwrite(path, colour_of_class[label].astype(np.uint8))


def stacked_demo_config(
    work_dir, data_root, transform, preprocessor, write, **kwargs
):
    """:func:`demo_config` with ``transform`` (a LoadDenseMap or
    LoadModality config) stacking a file per scene onto the image, packed
    by PackUSSInputs and laid out by ``preprocessor``; the scenes and the
    files (``write(data_root)``) are written here."""
    from mmuss.datasets import SyntheticScenesDataset

    cfg = demo_config(work_dir, data_root, **kwargs)
    scenes = dict(cfg.test_dataloader.dataset)
    scenes.pop('type')
    SyntheticScenesDataset(**dict(scenes, pipeline=[]))  # generates them
    write(str(data_root))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        pipeline = cfg[loader].dataset.pipeline
        pipeline.insert(1, transform)
        assert pipeline[-1]['type'] == 'PackSegInputs'
        pipeline[-1] = dict(type='PackUSSInputs')
    cfg.model.data_preprocessor = dict(preprocessor, size=(64, 64))
    return cfg


def modality_demo_config(work_dir, data_root, **kwargs):
    """:func:`demo_config` with a second, label-derived modality per scene
    (:func:`write_modality_images`) stacked by LoadModality."""
    load = dict(
        type='LoadModality', name='colourmap', modality_dir='colourmap'
    )
    return stacked_demo_config(
        work_dir,
        data_root,
        load,
        MODALITY_PREPROCESSOR,
        write_modality_images,
        **kwargs,
    )


def import_tool(script):
    """The module of ``tools/<script>``, imported in this process (to call
    its ``main`` with a replaced clock)."""
    import importlib.util

    name = osp.splitext(osp.basename(script))[0]
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, 'tools', script)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeClock:
    """A clock advancing ``tick`` seconds at every reading: a timed region
    read twice lasts exactly ``tick``."""

    def __init__(self, tick=0.5):
        self.tick = tick
        self.now = 0.0

    def __call__(self):
        self.now += self.tick
        return self.now


def table_rows(out):
    """The printed table rows as lists of columns (split on two spaces)."""
    return [
        [cell.strip() for cell in line.split('  ') if cell.strip()]
        for line in out.strip().splitlines()
        if line.strip()
    ]


def random_torchvision_resnet50(seed=0):
    """A torchvision ResNet-50 (the encoder MoCo trains) in eval mode with
    every weight and BatchNorm statistic random, so that a tensor loaded
    under the wrong name changes its output."""
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.resnet50(weights=None).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
    return model


def torchvision_resnet_last_stage(model, images):
    """The layer4 output of a torchvision ResNet (stride 32)."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(images))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def moco_checkpoint(encoder, version=2, prefix='module.', queue_size=16):
    """A facebookresearch/moco training checkpoint around ``encoder``
    (a torchvision ResNet-50), in the official layout.

    The query encoder gets MoCo's projection head (v1: ``fc`` linear to
    128-d; v2: ``fc.0``/``fc.2`` MLP); the key encoder has every tensor
    constant (0.5; stored as expanded views to keep the file small), so
    loading it instead of the query encoder changes the features. The
    queue holds ``queue_size`` keys (65,536 in the releases).
    """
    backbone = {
        k: v for k, v in encoder.state_dict().items() if not k.startswith('fc')
    }
    if version == 1:
        head = {'fc.weight': (128, 2048), 'fc.bias': (128,)}
    else:
        head = {
            'fc.0.weight': (2048, 2048),
            'fc.0.bias': (2048,),
            'fc.2.weight': (128, 2048),
            'fc.2.bias': (128,),
        }
    query = {**backbone, **{k: torch.randn(s) for k, s in head.items()}}
    state = {f'{prefix}encoder_q.{k}': v for k, v in query.items()}
    for key, value in query.items():
        constant = torch.full((), 0.5).to(value.dtype)
        state[f'{prefix}encoder_k.{key}'] = constant.expand(value.shape)
    queue = torch.nn.functional.normalize(torch.randn(128, queue_size), dim=0)
    state[f'{prefix}queue'] = queue
    state[f'{prefix}queue_ptr'] = torch.zeros(1, dtype=torch.long)
    parameter = torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD(
        [parameter], lr=0.03, momentum=0.9, weight_decay=1e-4
    )
    parameter.sum().backward()
    optimizer.step()
    return dict(
        epoch=800 if version == 2 else 200,
        arch='resnet50',
        state_dict=state,
        optimizer=optimizer.state_dict(),
    )


def tiny_depth_anything(folder, seed=0):
    """A random-initialised ``DepthAnythingForDepthEstimation`` (a 4-layer,
    32-d DINOv2 backbone of patch 14, a small DPT neck and relative-depth
    head) saved with ``save_pretrained`` to ``folder`` (safetensors), in
    eval mode."""
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
    )

    backbone = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        patch_size=14,
        image_size=70,
        out_features=['stage1', 'stage2', 'stage3', 'stage4'],
        reshape_hidden_states=False,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=32,
        patch_size=14,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
        depth_estimation_type='relative',
    )
    torch.manual_seed(seed)
    model = DepthAnythingForDepthEstimation(config)
    model.save_pretrained(str(folder))
    return model.eval()
