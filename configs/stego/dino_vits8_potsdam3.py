# STEGO on frozen DINO ViT-S/8 features, potsdam3.
# Loss weights and shifts: the "Potsdam vit small 1/31/22" block of upstream
# train_config.yml. Upstream centring (centering='stego'): the shifts were
# tuned with it.
_base_ = [
    '../_base_/models/uss_dino_vits8.py',
    '../_base_/datasets/potsdam3_knn.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/stego_adam_5k.py',
]
crop_size = (224, 224)
model = dict(
    data_preprocessor=dict(size=crop_size),
    # STEGO's ViT-S/8 weights (src/modules.py): the 300-epoch DINO release,
    # on which its shifts were tuned (PriMaPs' configs use the 800-epoch
    # dino_deitsmall8_pretrain.pth of the model base).
    backbone=dict(
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_deitsmall8_300ep_pretrain/dino_deitsmall8_300ep_pretrain.pth'
        )
    ),
    decode_head=dict(
        type='StegoHead',
        in_channels=384,
        channels=70,
        projection='nonlinear',
        dropout_ratio=0.1,
        loss_corr=dict(
            type='StegoCorrespondenceLoss',
            weight_self=0.67,
            weight_knn=0.25,
            weight_rand=0.63,
            shift_self=0.08,
            shift_knn=0.02,
            shift_rand=0.46,
            num_samples=11,
            num_negatives=5,
            centering='stego',
        ),
    ),
    num_classes=3,
)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(knn_file='nns/nns_vit_small_potsdam_train_None_224.npz'),
)
