# Unsupervised segmentor on a frozen DINO ViT-S/8 with the baseline head
# (cluster probe on the raw features). Method configs replace decode_head.
data_preprocessor = dict(
    type='USSDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
)
model = dict(
    type='UnsupervisedEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='DINOVisionTransformer',
        arch='dino-small',
        patch_size=8,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_deitsmall8_pretrain/dino_deitsmall8_pretrain.pth',
        ),
    ),
    decode_head=dict(type='IdentityHead', in_channels=384),
    num_classes=27,
    cluster_probe=dict(type='ClusterProbe', alpha=2.0),
    linear_probe=dict(type='LinearProbe'),
    train_cfg=dict(),
    # use_crf=True refines predictions with the dense CRF of the protocol
    # (10 iterations; Gaussian 1/3; bilateral 67/3/4) in crf.num_workers
    # processes (default: all cores).
    test_cfg=dict(
        mode='whole',
        flip=True,
        probe_resolution='input',
        use_crf=False,
        crf=dict(num_workers=None),
    ),
)
