# STEGO on frozen DINOv3 ViT-B/16 features, cocostuff27:
# dino_vits8_cocostuff27.py with the backbone of
# ../_base_/models/uss_dinov3_vitb16.py, the head width (768) and the KNN
# file (tests/test_configs.py checks that the backbone equals that base's).
# UniM2 supplement Tab. 3 (COCO-Stuff-27, ViT-B/16, mIoU): DINOv3 21.5,
# +STEGO 30.9, +HP 29.6, +EAGLE 30.5.
# Loss weights and shifts: neither the supplement nor the UniM2 code
# (Hatins/UniM2, whose configs cover NYUv2, MFNet and MCubeS only) gives
# STEGO's for DINOv3 on this dataset; the "Cocostuff27 vit small 1/31/22"
# block of upstream STEGO's train_config.yml, used by the ViT-S/8 leaf, is
# inherited, as are its schedule (5,000 iterations, batch 16, Adam 5e-4),
# 11x11 samples, 5 negatives and centring. Evaluation at 320 (20x20 patches
# of 16).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='DINOv3VisionTransformer',
        arch='base',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/'
            'dinov3_vitb16_pretrain_lvd1689m-73cec8be.pth',
        ),
    ),
    decode_head=dict(in_channels=768),
)
train_dataloader = dict(
    dataset=dict(
        knn_file='nns/nns_dinov3_vit_base_cocostuff27_train_five_224.npz'
    )
)
