# Unsupervised segmentor on a frozen DINOv3 ViT-S/16 (LVD-1689M) with the
# baseline head: uss_dino_vits8.py with the backbone replaced. Patch tokens
# after the final norm, CLS and 4 register tokens dropped, (B, 384, H/16,
# W/16); inputs must be multiples of 16 (224 crops, 320 evaluation).
# Weights: the DINOv3 licence gates the download. Request access on Meta's
# site (https://ai.meta.com/resources/models-and-libraries/dinov3-downloads/)
# for dinov3_vits16_pretrain_lvd1689m-08c60483.pth, or on the Hugging Face
# hub for facebook/dinov3-vits16-pretrain-lvd1689m (give its folder or
# model.safetensors). Put the file at this path (relative to the working
# directory) or override it:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
# Optional: tools/model_converters/dinov3_to_mmuss.py checks and converts it.
_base_ = './uss_dino_vits8.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='DINOv3VisionTransformer',
        arch='small',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/'
            'dinov3_vits16_pretrain_lvd1689m-08c60483.pth',
        ),
    ),
    decode_head=dict(in_channels=384),
)
