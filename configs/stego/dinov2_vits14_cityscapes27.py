# STEGO on frozen DINOv2 ViT-S/14 features, cityscapes27:
# dino_vits8_cityscapes27.py with the backbone of
# ../_base_/models/uss_dinov2_vits14.py, the KNN file and the 322 evaluation
# crops (tests/test_configs.py checks that the backbone equals that base's).
# Loss weights and shifts: the "Cityscapes 10/3" block of upstream
# train_config.yml (one of its two Cityscapes blocks, neither naming a
# backbone; see dino_vits8_cityscapes27.py). No upstream values exist for
# DINOv2; the DINO ViT-S/8 block is reused (inherited). Upstream centring
# (centering='stego'): the shifts were tuned with it.
_base_ = './dino_vits8_cityscapes27.py'
model = dict(
    backbone=dict(
        arch='dinov2-small',
        patch_size=14,
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dinov2/'
            'dinov2_vits14/dinov2_vits14_pretrain.pth'
        ),
    ),
)
train_dataloader = dict(
    dataset=dict(
        knn_file='nns/nns_dinov2_vit_small_cityscapes_train_five_224.npz'
    )
)
# Patch-14 backbones are evaluated at 322 (23x23 patches).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=322, as_original=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
