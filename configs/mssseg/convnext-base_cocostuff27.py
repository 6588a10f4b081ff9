# MSSSeg Table 4, ConvNeXt (COCO-Stuff-27: baseline 14.1 / 8.2, MSSSeg
# 21.0 / 10.8). Size and checkpoint are not given: mmpretrain's ConvNeXt-B
# (ImageNet-1k), the stage-3 map (stride 16, 512 channels).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='base',
        out_indices=(2,),
        gap_before_final_norm=False,
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'convnext/convnext-base_32xb128_in1k_20221207-fbdb5eb9.pth',
        ),
    ),
    decode_head=dict(in_channels=512),
)
