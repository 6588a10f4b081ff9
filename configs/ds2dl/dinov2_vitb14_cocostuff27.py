# DS²DL on frozen DINOv2 ViT-B/14 features, COCO-Stuff-27:
# dino_vits8_cocostuff27.py with the backbone of
# ../_base_/models/uss_dinov2_vitb14.py and the head width (768), and the 322
# evaluation crops (patch 14: 23x23 patches) (tests/test_configs.py checks that
# the backbone equals that base's). Not in the paper (it reports DINO ViT-S/8
# on COCO-Stuff and Cityscapes, ViT-B/8 on Potsdam-3); the hyperparameters are
# the leaf's.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=322, as_original=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
