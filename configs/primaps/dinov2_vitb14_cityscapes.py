# PriMaPs-EM on frozen DINOv2 ViT-B/14 features, cityscapes27:
# dino_vits8_cityscapes.py with the backbone of
# ../_base_/models/uss_dinov2_vitb14.py, the head width (768), its own
# proposals (mask_dir) and 322 crops for training and evaluation
# (tests/test_configs.py checks that the backbone equals that base's). The rest
# is inherited (PriMaPs Sec. 4.1: batch 32, Adam 5e-3, 50 EM epochs after 2
# k-means epochs, psi 0.4, EMA every 10 steps with decay 0.98).
# Prepare the proposals first:
#   python tools/precompute_primaps.py \
#       configs/primaps/dinov2_vitb14_cityscapes.py
_base_ = './dino_vits8_cityscapes.py'
mask_dir = 'primaps/dinov2_vitb14'
crop_size = (322, 322)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='dinov2-base',
        patch_size=14,
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dinov2/'
            'dinov2_vitb14/dinov2_vitb14_pretrain.pth'
        ),
    ),
    decode_head=dict(in_channels=768),
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadPseudoMask', mask_dir=mask_dir),
    dict(type='ResizeCenterCrop', size=322),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotometricView'),
    dict(
        type='PackUSSInputs',
        image_fields=['student_img'],
        map_fields=['primaps_map'],
    ),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# Patch-14 backbones are evaluated at 322 (23x23 patches).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=322, as_original=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
