# IL2Vseg on the embedded synthetic scenes with the demo's self-supervised
# ViT (no precomputation needed):
#   python tools/train.py configs/il2vseg/tiny-vit_synthetic.py
# SmooSeg's projection (D = 64) and EMA centres (0.998, T = 0.1) with the
# low-level colour cue (spatial fuzzy c-means, m = 2, 10 iterations, from the
# head's memberships; colour affinity sigma = 0.1 on [0, 1] RGB) fused at
# alpha = 0.5 in training; Eq. 15 with beta = 0.05 and gamma = 0.1, and
# L_corr: STEGO's loss (default weights and shifts) between the image and a
# random luminosity/colour change of it (InvariantColourView). K = 11
# clusters, predicted by the global centres (the cue is off at test time).
# Adam 1e-4 / 5e-4 (the paper's), the demo's batch (8) and 2,000 steps. The
# decode.usage_* scalars show how the pixels spread over the global
# clusters.
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/il2vseg_adam_3k.py',
]
model = dict(
    decode_head=dict(
        _delete_=True,
        type='IL2VsegHead',
        in_channels=96,
        num_prototypes=11,
        channels=64,
        alpha=0.5,
        cue_cfg=dict(sigma=0.1, m=2.0, num_iters=10),
        loss_fs=dict(
            type='IL2VsegFeatureSimilarityLoss',
            fs_mode='gram',
            loss_weight_fs=0.1,
            loss_weight_reg=0.05,
        ),
        corr_view='inv_img',
        loss_corr=dict(type='StegoCorrespondenceLoss'),
    ),
    view_generators=dict(inv_img=dict(type='InvariantColourView')),
    # the global centres predict; ./tiny-vit_synthetic_kmeans.py is the
    # "minibatch k-means" reading (the inherited cluster probe)
    cluster_source='head',
)
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
