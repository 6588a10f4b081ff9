# The alternative tried for the demo backbone: mmpretrain's MAE on the same
# unlabelled scenes and the same ViT (decoder: 2 layers, 64-d). Its patch
# features reconstruct pixels well but do not group by class under cosine
# k-means (README, "The embedded benchmark"), so the demo uses DenseCL
# (./densecl_tiny-vit-p8_synthetic.py).
_base_ = ['./densecl_tiny-vit-p8_synthetic.py']
model = dict(
    _delete_=True,
    type='MAE',
    backbone=dict(
        type='MAEViT',
        arch=dict(
            embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384
        ),
        patch_size=8,
        img_size=128,
        mask_ratio=0.75,
    ),
    neck=dict(
        type='MAEPretrainDecoder',
        num_patches=256,
        patch_size=8,
        in_chans=3,
        embed_dim=96,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=2,
        mlp_ratio=4.0,
    ),
    head=dict(
        type='MAEPretrainHead',
        norm_pix=True,
        patch_size=8,
        loss=dict(type='PixelReconstructionLoss', criterion='L2'),
    ),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=128,
        crop_ratio_range=(0.3, 1.0),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
