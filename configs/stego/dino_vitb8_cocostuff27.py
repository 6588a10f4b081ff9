# STEGO on frozen DINO ViT-B/8 features, cocostuff27: dino_vits8_cocostuff27.py
# with the backbone of ../_base_/models/uss_dino_vitb8.py, the head width
# (768), the loss weights and the KNN file (tests/test_configs.py checks that
# the backbone equals that base's).
# Loss weights and shifts: the "Cocostuff27 10/3 vit_base" block of upstream
# train_config.yml. Upstream centring (centering='stego'): the shifts were
# tuned with it.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        arch='dino-base',
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth'
        ),
    ),
    decode_head=dict(
        in_channels=768,
        loss_corr=dict(
            weight_self=0.1,
            weight_knn=1.0,
            weight_rand=0.1538,
            shift_self=0.12,
            shift_knn=0.2,
            shift_rand=1.0,
        ),
    ),
)
train_dataloader = dict(
    dataset=dict(knn_file='nns/nns_vit_base_cocostuff27_train_five_224.npz')
)
