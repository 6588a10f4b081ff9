# MSSSeg on frozen DINO ViT-B/8 features, Potsdam-3 (paper Table 1:
# 89.2 Acc / 75.7 mIoU).
_base_ = './dino_vits8_potsdam3.py'
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
    dataset=dict(knn_file='nns/nns_vit_base_potsdam_train_None_224.npz')
)
