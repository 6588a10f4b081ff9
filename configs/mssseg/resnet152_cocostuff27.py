# MSSSeg Table 4, ResNet-152 (COCO-Stuff-27: baseline 9.8 / 3.1, MSSSeg
# 15.3 / 8.1). The paper gives no checkpoint or feature map: torchvision's
# ImageNet ResNet-152 (mmseg ResNet, weights by path or torchvision://),
# the last stage dilated to output stride 8 (the ViT-S/8 grid).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=152,
        out_indices=(3,),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        style='pytorch',
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet152'),
    ),
    decode_head=dict(in_channels=2048),
)
