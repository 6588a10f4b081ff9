# IL2Vseg on a frozen MoCo v2 ResNet-50, COCO-Stuff-27 (paper Table 1,
# "MoCoV2 ResNet50" rows: IL2Vseg 54.2 Acc / 20.1 mIoU, SmooSeg 52.4 / 18.8,
# STEGO 43.1 / 19.6). The backbone of ../_base_/models/uss_moco_r50.py
# (official moco_v2_800ep_pretrain.pth.tar read as it is; see that file for
# where to get it) made output-stride 8 by dilating the last two stages, so
# the head and the low-level cue work on the H/8 grid of the paper's Eq. 1
# (the paper does not say which ResNet map it uses); everything else is the
# ViT-S/8 leaf's.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='MoCoResNet',
        depth=50,
        out_indices=(3,),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        style='pytorch',
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/moco/moco_checkpoints/'
            'moco_v2_800ep/moco_v2_800ep_pretrain.pth.tar',
        ),
    ),
    decode_head=dict(in_channels=2048),
)
