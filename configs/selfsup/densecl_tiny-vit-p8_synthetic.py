# Self-supervised pretraining of the embedded demo's backbone: mmpretrain's
# DenseCL (dense contrastive learning) on unlabelled synthetic scenes of a
# generator seed of their own, run through the normal runner:
#   python tools/train.py configs/selfsup/densecl_tiny-vit-p8_synthetic.py
#   python tools/model_converters/selfsup2backbone.py \
#       work_dirs/selfsup/densecl_tiny-vit-p8_synthetic/iter_1500.pth \
#       configs/_base_/models/weights/tiny-vit-p8_densecl_synthetic.pth
# The encoder is the demo ViT (4 layers, 96-d, patch 8, 128 px; its patch
# tokens after the final norm are DenseCL's dense feature map); the
# projection necks and the momentum encoder are dropped afterwards. Why
# DenseCL: see the README ("The embedded benchmark").
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mmuss'], allow_failed_imports=False)

model = dict(
    type='DenseCL',
    queue_len=4096,
    feat_dim=64,
    momentum=0.001,
    loss_lambda=0.5,
    backbone=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384
        ),
        patch_size=8,
        img_size=128,
        out_type='featmap',
    ),
    neck=dict(
        type='DenseCLNeck',
        in_channels=96,
        hid_channels=256,
        out_channels=64,
        num_grid=None,
    ),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2,
    ),
)
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
# MoCo-v2's view augmentations with weaker colour changes and no hue shift:
# in these scenes colour is part of what a class is (sky / water, vegetation
# / grass). (mmcv 2.1's adjust_hue also fails on negative shifts with numpy
# 2.)
view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=128,
        crop_ratio_range=(0.3, 1.0),
        backend='pillow',
    ),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.2,
                contrast=0.2,
                saturation=0.2,
                hue=0.0,
            )
        ],
        prob=0.8,
    ),
    dict(
        type='RandomGrayscale',
        prob=0.05,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989),
    ),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 1.0),
        magnitude_std='inf',
        prob=0.3,
    ),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SyntheticSceneImages',
        data_root='data/synthetic_pretrain',
        seed=100,
        num_images=2000,
        image_size=128,
        pipeline=train_pipeline,
    ),
)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05
    ),
    paramwise_cfg=dict(
        custom_keys={
            'ln': dict(decay_mult=0.0),
            'bias': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }
    ),
)
max_iters = 1500
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=150),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters - 150,
        by_epoch=False,
        begin=150,
        end=max_iters,
    ),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1
    ),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
# mmuss's safety hooks work for any model (registered in mmseg's registry)
custom_hooks = [
    dict(type='mmseg.CheckpointCheckHook'),
    dict(type='mmseg.NonFiniteCheckHook'),
    dict(type='mmseg.RandomStateHook'),
]
