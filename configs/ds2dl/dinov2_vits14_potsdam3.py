# DS²DL on frozen DINOv2 ViT-S/14 features, Potsdam-3: dino_vits8_potsdam3.py
# with the backbone of ../_base_/models/uss_dinov2_vits14.py and the head width
# (384) (Potsdam's 224 evaluation crops are 16x16 patches of 14 as they are)
# (tests/test_configs.py checks that the backbone equals that base's). Not in
# the paper (it reports DINO ViT-B/8 on Potsdam-3); the hyperparameters are the
# leaf's.
_base_ = './dino_vits8_potsdam3.py'
model = dict(
    backbone=dict(
        arch='dinov2-small',
        patch_size=14,
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dinov2/'
            'dinov2_vits14/dinov2_vits14_pretrain.pth'
        ),
    ),
    decode_head=dict(in_channels=384),
)
