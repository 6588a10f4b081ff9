# The embedded default's backbone: a small randomly initialised ViT
# (4 layers, 96-d, patch 8) on 128x128 images. No download needed.
_base_ = './uss_dino_vits8.py'
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=96,
            num_layers=4,
            num_heads=3,
            feedforward_channels=384,
        ),
        patch_size=8,
        img_size=128,
        init_cfg=None,
        # the same random weights in every process and tool (proposal and
        # feature-cache tools, distributed ranks), whatever the run's seed
        init_seed=0,
    ),
    decode_head=dict(in_channels=96),
    num_classes=6,
    # On this small dataset the upstream probe (random centres) leaves
    # centres dead; label-free k-means seeding and dead-centre re-seeding
    # avoid that, and seeding from the codes of the last 10 steps (80
    # images) instead of one batch makes the result depend far less on the
    # batch a re-seeding falls on (see ClusterProbe).
    cluster_probe=dict(
        init='kmeans++', reseed_interval=100, seed_bank_size=20480
    ),
    test_cfg=dict(flip=False),
)
