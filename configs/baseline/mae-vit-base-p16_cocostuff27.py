# The baseline on an mmpretrain backbone: an MAE ViT-B/16 (patch tokens of
# the last block). Checkpoints in mmpretrain format load through init_cfg.
# It sets every key of the DINO backbone it replaces (type, arch, patch_size,
# init_cfg.type/checkpoint), so a plain merge replaces it whole.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='base',
        patch_size=16,
        img_size=224,
        out_type='featmap',
        final_norm=True,
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmselfsup/1.x/mae/'
            'mae_vit-base-p16_8xb512-fp16-coslr-1600e_in1k/'
            'mae_vit-base-p16_8xb512-fp16-coslr-1600e_in1k_20220825-f7569ca2'
            '.pth',
        ),
    ),
    decode_head=dict(in_channels=768),
)
