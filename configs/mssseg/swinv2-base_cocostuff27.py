# MSSSeg Table 4, SwinV2 (COCO-Stuff-27: baseline 16.7 / 9.7, MSSSeg
# 25.2 / 16.1). Size and checkpoint are not given: mmpretrain's SwinV2-B
# (window 16, ImageNet-1k at 256 px), the stage-3 map (stride 16, 512
# channels).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformerV2',
        arch='base',
        img_size=224,
        window_size=[16, 16, 16, 8],
        out_indices=(2,),
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'swin-v2/swinv2-base-w16_3rdparty_in1k-256px_20220803-8d7aa8ad.pth',
        ),
    ),
    decode_head=dict(in_channels=512),
)
