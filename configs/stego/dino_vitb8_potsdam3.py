# STEGO on frozen DINO ViT-B/8 features, potsdam3: dino_vits8_potsdam3.py with
# the backbone of ../_base_/models/uss_dino_vitb8.py, the head width (768) and
# the KNN file (tests/test_configs.py checks that the backbone equals that
# base's).
# Loss weights and shifts: the "Potsdam vit small 1/31/22" block of upstream
# train_config.yml (upstream has no ViT-B Potsdam block), as for ViT-S/8
# (inherited). Upstream centring (centering='stego'): the shifts were tuned
# with it.
_base_ = './dino_vits8_potsdam3.py'
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
train_dataloader = dict(
    dataset=dict(knn_file='nns/nns_vit_base_potsdam_train_None_224.npz')
)
