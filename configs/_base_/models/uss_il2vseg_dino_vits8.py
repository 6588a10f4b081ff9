# IL2Vseg on a frozen DINO ViT-S/8 (the dataset leaves of configs/il2vseg/
# set K, the smoothness shifts and L_corr's STEGO weights and shifts).
# Paper "Implementation Details": SmooSeg's projection and local/global
# centres (SmooSeg's D = 64, T = 0.1, EMA 0.998, Dropout2d 0.2: not given by
# IL2Vseg), the low-level cue fused at alpha = 0.5 in training, Eq. 15 with
# beta = 0.05 and gamma = 0.1, L_corr between the image and its colour /
# luminosity-invariant view; prediction by the global centres, dense CRF on.
# Our choices for what the paper leaves open (fuzzy c-means m = 2, 10
# iterations started from the head's memberships, sigma = 0.1 on [0, 1]
# RGB, Eq. 14 read as the Gram/affinity loss) are in configs/il2vseg/README.md.
_base_ = ['./uss_dino_vits8.py']
model = dict(
    data_preprocessor=dict(size=(224, 224)),
    decode_head=dict(
        _delete_=True,
        type='IL2VsegHead',
        in_channels=384,
        num_prototypes=27,
        channels=64,
        dropout_ratio=0.2,
        temperature=0.1,
        momentum=0.998,
        alpha=0.5,
        cue_cfg=dict(sigma=0.1, m=2.0, num_iters=10, exponent='printed'),
        fuse='prob',
        align='none',
        loss_smooth=dict(
            type='SmooSegSmoothnessLoss', shift_self=-0.02, shift_rand=0.5
        ),
        loss_fs=dict(
            type='IL2VsegFeatureSimilarityLoss',
            fs_mode='gram',
            loss_weight_fs=0.1,
            loss_weight_reg=0.05,
        ),
        corr_view='inv_img',
        loss_corr=dict(
            type='StegoCorrespondenceLoss',
            num_samples=11,
            num_negatives=5,
            centering='stego',
        ),
    ),
    view_generators=dict(inv_img=dict(type='InvariantColourView')),
    # the global centres predict (Implementation Details); the *_kmeans.py
    # leaves are the "minibatch k-means" reading of the Evaluation section
    cluster_source='head',
    # the cue at test time (alpha_test > 0) is the refiner
    # dict(type='LowLevelCueRefiner', alpha=...) in test_cfg.refiners
    test_cfg=dict(use_crf=True),
)
