# STEGO on the embedded synthetic scenes with the demo's random-init ViT.
# First compute the KNN pairs, then train:
#   python tools/precompute_knn.py configs/stego/tiny-vit_synthetic.py
#   python tools/train.py configs/stego/tiny-vit_synthetic.py
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/stego_adam_5k.py',
]
knn_file = 'nns/nns_tiny-vit_synthetic_train_none_128.npz'
model = dict(
    decode_head=dict(
        _delete_=True,
        type='StegoHead',
        in_channels=96,
        channels=32,
        loss_corr=dict(
            type='StegoCorrespondenceLoss',
            weight_self=0.67,
            weight_knn=0.25,
            weight_rand=0.63,
            shift_self=0.18,
            shift_knn=0.12,
            shift_rand=0.46,
            centering='stego',
        ),
    ),
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file=knn_file,
        dataset=dict(
            type='SyntheticScenesDataset',
            data_root='data/synthetic_scenes',
            split='train',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
                dict(type='PackSegInputs'),
            ],
        ),
    )
)
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300))
