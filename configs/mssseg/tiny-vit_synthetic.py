# MSSSeg on the embedded synthetic scenes with the demo's self-supervised
# ViT and the scenes' own depth sensor (no depth network: the maps come
# from the scene generator, see ../_base_/datasets/synthetic_scenes_depth.py):
#   python tools/precompute_knn.py configs/stego/tiny-vit_synthetic.py
#   python tools/train.py configs/mssseg/tiny-vit_synthetic.py
# The Pseudo Head is the STEGO demo's head (same loss weights and shifts,
# KNN pairs); the Seg Head trains on the StructAug view; DBC on box sizes
# 2..64 of the 128 px scenes; a small DCA decoder (E = 64, 4 heads, 2
# levels) for the 16 x 16 feature map; 4 StructAug test views; no CRF (the
# demo configs of every method go without). 1,000 steps (a step costs
# about 3x a STEGO demo step: three backbone passes, StructAug, DBC, PHLoss).
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes_depth.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/mssseg_adam_5k.py',
]
knn_file = 'nns/nns_tiny-vit_synthetic_train_none_128.npz'
model = dict(
    data_preprocessor=dict(aux_channels=[{{_base_.depth_aux_channel}}]),
    backbone_grad=True,
    view_generators=dict(structaug=dict(type='StructAug', adversarial=True)),
    decode_head=dict(
        _delete_=True,
        type='MSSSegHead',
        in_channels=96,
        num_prototypes=11,
        channels=70,
        pseudo_head=dict(
            type='StegoHead',
            loss_corr=dict(
                type='StegoCorrespondenceLoss',
                weight_self=0.1,
                weight_knn=0.5,
                weight_rand=1.0,
                shift_self=0.5,
                shift_knn=0.3,
                shift_rand=0.3,
                centering='stego',
            ),
        ),
        pseudo_probe=dict(
            init='kmeans++', reseed_interval=100, seed_bank_size=65536
        ),
        aug_view='structaug',
        num_tta_views=4,
        dbc=dict(box_sizes='f', out_channels=64, hidden_channels=128),
        dca=dict(
            embed_dims=64,
            num_heads=4,
            num_levels=2,
            num_points=4,
            feedforward_channels=128,
        ),
        loss_ph=dict(type='PHLoss', channels='present', num_workers=2),
    ),
    cluster_source='head',
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file=knn_file,
        dataset={{_base_.train_dataloader.dataset}},
    )
)
train_cfg = dict(max_iters=1000, val_interval=500)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
