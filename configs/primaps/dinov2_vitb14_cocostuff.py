# PriMaPs-EM on frozen DINOv2 ViT-B/14 features, cocostuff27 (PriMaPs Sec. 4.1:
# batch 32, Adam 5e-3, 5 EM epochs after 2 k-means epochs, 322 crops, psi 0.4,
# EMA every 10 steps with decay 0.98).
# Prepare the proposals first:
#   python tools/precompute_primaps.py \
#       configs/primaps/dinov2_vitb14_cocostuff.py
_base_ = [
    '../_base_/models/uss_dinov2_vitb14.py',
    '../_base_/datasets/cocostuff27_primaps.py',
    '../_base_/primaps_runtime.py',
    '../_base_/schedules/primaps_adam_50e.py',
]
data_root = 'data/cocostuff'
mask_dir = 'primaps/dinov2_vitb14'
crop_size = (322, 322)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        _delete_=True, type='PrimapsHead', in_channels=768, num_prototypes=27
    ),
    num_classes=27,
    cluster_source='head',
    cluster_probe=None,
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
train_cfg = dict(max_epochs=7, val_interval=1)
# Patch-14 backbones are evaluated at 322 (23x23 patches).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=322, as_original=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
