_base_ = './uss_dino_vits8.py'
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
