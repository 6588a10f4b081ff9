_base_ = './uss_dino_vits8.py'
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
