# PriMaPs-EM on frozen DINO ViT-B/8 features, cocostuff27:
# dino_vits8_cocostuff.py with the backbone of
# ../_base_/models/uss_dino_vitb8.py, the head width (768) and its own
# proposals (mask_dir) (tests/test_configs.py checks that the backbone equals
# that base's). The rest is inherited (PriMaPs Sec. 4.1: batch 32, Adam 5e-3, 5
# EM epochs after 2 k-means epochs, psi 0.4, EMA every 10 steps with decay
# 0.98).
# Prepare the proposals first:
#   python tools/precompute_primaps.py \
#       configs/primaps/dino_vitb8_cocostuff.py
_base_ = './dino_vits8_cocostuff.py'
mask_dir = 'primaps/dino_vitb8'
model = dict(
    backbone=dict(
        arch='dino-base',
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth'
        ),
    ),
    decode_head=dict(in_channels=768),
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
