# DS²DL on a frozen DINO ViT-S/8 (the dataset leaves of configs/ds2dl/ set
# num_prototypes, num_classes and r): Sec. 4.3's D = 64, tau = 0.1,
# alpha = 0.998, Sinkhorn 3 iterations at eps = 0.1 per image as printed,
# every loss term on; the global prototypes predict (cluster_source='head').
_base_ = ['./uss_dino_vits8.py']
model = dict(
    data_preprocessor=dict(size=(224, 224)),
    decode_head=dict(
        _delete_=True,
        type='DS2DLHead',
        in_channels=384,
        num_prototypes=27,
        channels=64,
        temperature=0.1,
        momentum=0.998,
        loss_affinity=dict(
            type='DS2DLAffinityLoss',
            r=2.1,
            intra_pairs=True,
            cross_pairs=True,
        ),
        loss_cluster=dict(
            type='DS2DLClusterLoss',
            epsilon=0.1,
            sinkhorn_iters=3,
            sinkhorn_per_image=True,
            loss_l2g_weight=1.0,
            loss_orth_weight=1.0,
            loss_data_weight=1.0,
        ),
    ),
    cluster_source='head',
    cluster_probe=None,
    # Table 1 is with the dense CRF ("parameter settings from Lan et al.");
    # the *_wo-crf.py leaves are Table 3's rows without it.
    test_cfg=dict(use_crf=True),
)
