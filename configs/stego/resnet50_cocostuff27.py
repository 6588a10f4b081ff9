# STEGO on a non-ViT backbone: the correspondence loss on the last stage of
# an ImageNet ResNet-50 (mmseg's ResNetV1c, frozen). Any backbone whose
# output feature map the head can read works the same way.
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
train_dataloader = dict(
    dataset=dict(knn_file='nns/nns_resnet50_cocostuff27_train_five_224.npz')
)
