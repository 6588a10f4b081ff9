# Unsupervised segmentor on a frozen MoCo v2 ResNet-50 (IL2Vseg Table 1's
# "MoCoV2 ResNet50" rows; STEGO's and SmooSeg's ResNet-50 backbone) with the
# baseline head (cluster probe on the raw features). Method configs replace
# decode_head.
#
# Weights: moco_v2_800ep_pretrain.pth.tar, the MoCo v2 800-epoch ImageNet
# release of facebookresearch/moco (README, "Models"), the file STEGO's code
# loads for its ResNet-50 ("mocov2" in src/utils.py). MoCoResNet reads the
# official training checkpoint as it is (weights_only=True; query encoder
# kept, projection head, key encoder and queue dropped). The URL below is
# downloaded once into the torch hub cache; offline, download it elsewhere
# and pass the local file:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
# (PATH: your copy of moco_v2_800ep_pretrain.pth.tar).
#
# Features: the last stage (layer4, 2048 channels, output stride 32), the
# map STEGO's ResNet-50 featurizer hands to its correspondence loss (its
# torchvision ResNet-50 without dilation; src/modules.py FeaturePyramidNet,
# `low_res_feats`). Only that stage is output, so a feature cache
# (model.feature_cache) stores that map alone. For an output-stride-8 map
# (the DINO ViT-S/8 grid) set strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4):
# the same weights load.
#
# Normalisation: MoCo trains on RGB in [0, 1] normalised by the ImageNet
# mean and std, which the data preprocessor of the DINO base applies (same
# mean/std x 255, BGR to RGB).
_base_ = './uss_dino_vits8.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='MoCoResNet',
        depth=50,
        num_stages=4,
        out_indices=(3,),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
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
