# STEGO on frozen DINOv2 ViT-S/14 features, cityscapes27.
# Loss weights and shifts: the "Cityscapes 10/3" block of upstream
# train_config.yml (one of its two Cityscapes blocks, neither naming a
# backbone; see dino_vits8_cityscapes27.py). No upstream values exist for
# DINOv2; the DINO ViT-S/8 block is reused. Upstream centring
# (centering='stego'): the shifts were tuned with it.
_base_ = [
    '../_base_/models/uss_dinov2_vits14.py',
    '../_base_/datasets/cityscapes27_knn.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/stego_adam_5k.py',
]
crop_size = (224, 224)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        _delete_=True,
        type='StegoHead',
        in_channels=384,
        channels=70,
        projection='nonlinear',
        dropout_ratio=0.1,
        loss_corr=dict(
            type='StegoCorrespondenceLoss',
            weight_self=1.0,
            weight_knn=0.5775,
            weight_rand=0.9059,
            shift_self=0.4583,
            shift_knn=0.1754,
            shift_rand=0.3136,
            num_samples=11,
            num_negatives=5,
            centering='stego',
        ),
    ),
    num_classes=27,
)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        knn_file='nns/nns_dinov2_vit_small_cityscapes_train_five_224.npz'
    ),
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
