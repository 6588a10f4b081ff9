# The baseline on a non-ViT backbone: cluster probe on the last stage of an
# ImageNet ResNet-50 (mmseg's ResNetV1c). Any mmseg or mmpretrain backbone
# works the same way: replace `backbone` and point the head's in_channels /
# in_index at the feature map to cluster.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnet50_v1c'
        ),
    ),
    decode_head=dict(in_channels=2048, in_index=3),
)
