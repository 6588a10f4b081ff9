# MSSSeg on frozen DINO ViT-B/8 features, COCO-Stuff-27 (paper Table 1:
# 73.5 Acc / 34.9 mIoU); the Pseudo Head with STEGO's ViT-B/8 COCO
# constants.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        arch='dino-base',
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth'
        ),
    ),
    decode_head=dict(
        in_channels=768,
        pseudo_head=dict(
            loss_corr=dict(
                weight_self=0.1,
                weight_knn=1.0,
                weight_rand=0.1538,
                shift_self=0.12,
                shift_knn=0.2,
                shift_rand=1.0,
            )
        ),
    ),
)
train_dataloader = dict(
    dataset=dict(knn_file='nns/nns_vit_base_cocostuff27_train_five_224.npz')
)
