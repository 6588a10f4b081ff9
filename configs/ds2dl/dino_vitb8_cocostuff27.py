# DS²DL on frozen DINO ViT-B/8 features, COCO-Stuff-27:
# dino_vits8_cocostuff27.py with the backbone of
# ../_base_/models/uss_dino_vitb8.py and the head width (768)
# (tests/test_configs.py checks that the backbone equals that base's). Not in
# the paper (it reports DINO ViT-S/8 on COCO-Stuff and Cityscapes, ViT-B/8 on
# Potsdam-3); the hyperparameters are the leaf's.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        arch='dino-base',
        patch_size=8,
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth'
        ),
    ),
    decode_head=dict(in_channels=768),
)
