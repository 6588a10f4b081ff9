# MSSSeg on frozen DINO ViT-B/8 features, Cityscapes-27 (paper Table 1:
# 87.4 Acc / 26.8 mIoU).
_base_ = './dino_vits8_cityscapes27.py'
model = dict(
    backbone=dict(
        arch='dino-base',
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth'
        ),
    ),
    decode_head=dict(in_channels=768),
)
train_dataloader = dict(
    dataset=dict(knn_file='nns/nns_vit_base_cityscapes_train_five_224.npz')
)
