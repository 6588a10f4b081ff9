# PriMaPs-EM on frozen DINO ViT-S/8 features, cocostuff27 (PriMaPs Sec. 4.1:
# batch 32, Adam 5e-3, 5 EM epochs after 2 k-means epochs, 320 crops, psi 0.4,
# EMA every 10 steps with decay 0.98).
# Prepare the proposals first:
#   python tools/precompute_primaps.py \
#       configs/primaps/dino_vits8_cocostuff.py
_base_ = [
    '../_base_/models/uss_dino_vits8.py',
    '../_base_/datasets/cocostuff27_primaps.py',
    '../_base_/primaps_runtime.py',
    '../_base_/schedules/primaps_adam_50e.py',
]
data_root = 'data/cocostuff'
mask_dir = 'primaps/dino_vits8'
crop_size = (320, 320)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(type='PrimapsHead', in_channels=384, num_prototypes=27),
    num_classes=27,
    cluster_source='head',
    cluster_probe=None,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadPseudoMask', mask_dir=mask_dir),
    dict(type='ResizeCenterCrop', size=320),
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
