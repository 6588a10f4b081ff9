# MSSSeg on frozen DINO ViT-B/8 features, PASCAL VOC 2012 (supplement
# Table V: 58.1 mIoU).
_base_ = './dino_vits8_pascal_voc21.py'
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
