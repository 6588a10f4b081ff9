# MSSSeg on a frozen DINO ViT-S/8 (the dataset leaves of configs/mssseg/ set
# K and the Pseudo Head's STEGO constants). The paper gives no optimiser,
# rates, loss weights, dimensions or TTA count; every value below that is
# not in the paper is marked "choice" in configs/mssseg/README.md.
# - Pseudo Head: STEGO (the paper's baseline study) on the clean features,
#   70-d codes, with a cosine k-means whose argmax is the pseudo-label
# - Seg Head: the same architecture on the StructAug view (9 learnable
#   scalars, adversarial: gradient reversal), plus a 1x1 classifier
# - DBC: box sizes 2..64 (Table VI's f), four descriptors, d = 64; DCA
#   decoder on mmcv's deformable attention (E 256, 8 heads, 3 levels)
# - losses (Eq. 11): L_cont + L_distill + L_PH + L_align + L_dca, weights 1
# - inference: 4 StructAug views + the clean image, fused with the DCA
#   prediction, dense CRF (the STEGO / DepthG protocol)
_base_ = ['./uss_dino_vits8.py']
model = dict(
    data_preprocessor=dict(
        size=(224, 224),
        aux_channels=[dict(name='depth', mean=[0.0], std=[1.0])],
    ),
    backbone_grad=True,
    view_generators=dict(structaug=dict(type='StructAug', adversarial=True)),
    decode_head=dict(
        _delete_=True,
        type='MSSSegHead',
        in_channels=384,
        num_prototypes=27,
        channels=70,
        pseudo_head=dict(
            type='StegoHead',
            projection='nonlinear',
            dropout_ratio=0.1,
            loss_corr=dict(
                type='StegoCorrespondenceLoss',
                weight_self=0.67,
                weight_knn=0.25,
                weight_rand=0.63,
                shift_self=0.08,
                shift_knn=0.02,
                shift_rand=0.66,
                num_samples=11,
                num_negatives=5,
                centering='stego',
            ),
        ),
        pseudo_probe=dict(init='kmeans++', reseed_interval=100),
        aug_view='structaug',
        num_tta_views=4,
        semantic_source='pseudo',
        fusion='mean',
        dbc=dict(box_sizes='f', out_channels=64, hidden_channels=128),
        dca=dict(embed_dims=256, num_heads=8, num_levels=3, num_points=4),
        loss_pixel=dict(
            type='MSSSegPixelLoss',
            temperature=0.1,
            loss_cont_weight=1.0,
            loss_distill_weight=1.0,
        ),
        loss_ph=dict(
            type='PHLoss',
            channels='present',
            homology_dims=(0, 1),
            num_workers=4,
            loss_weight=1.0,
        ),
        loss_align=dict(type='DBCAlignmentLoss', loss_weight=1.0),
        loss_dca_weight=1.0,
    ),
    cluster_source='head',
    test_cfg=dict(use_crf=True),
)
