# STEGO on frozen DINO ViT-S/8 features, cityscapes27.
# Loss weights and shifts: the "Cityscapes 10/3" block of upstream
# train_config.yml. That file has two commented Cityscapes blocks, "Cityscapes
# 10/3" (1 / 0.5775 / 0.9059; shifts 0.4583 / 0.1754 / 0.3136) and
# "Cityscapes" (0.46 / 0.18 / 0.72; shifts 0.25 / 0.20 / 0.25), neither naming
# a backbone; the other is one --cfg-options away. Upstream centring
# (centering='stego'): the shifts were tuned with it.
_base_ = [
    '../_base_/models/uss_dino_vits8.py',
    '../_base_/datasets/cityscapes27_knn.py',
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
    dataset=dict(knn_file='nns/nns_vit_small_cityscapes_train_five_224.npz'),
)
