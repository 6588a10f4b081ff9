# MSSSeg Table 4, MAE (COCO-Stuff-27: baseline 17.4 / 10.1, MSSSeg
# 32.4 / 17.8). The checkpoint is not given: mmpretrain's MAE ViT-B/16
# (1,600 epochs), as configs/baseline/mae-vit-base-p16_cocostuff27.py.
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
