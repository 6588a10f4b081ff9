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
# Loss weights and shifts for this backbone and dataset: chosen, as upstream
# STEGO tuned its own, by a small manual search on the validation mIoU
# (self-pairs of this random ViT correlate across classes within an image,
# so the self term gets a small weight and a high shift).
model = dict(
    decode_head=dict(
        _delete_=True,
        type='StegoHead',
        in_channels=96,
        channels=70,
        loss_corr=dict(
            type='StegoCorrespondenceLoss',
            weight_self=0.1,
            weight_knn=0.5,
            weight_rand=1.0,
            shift_self=0.7,
            shift_knn=0.45,
            shift_rand=0.47,
            centering='stego',
        ),
    ),
    cluster_probe=dict(reset_steps=[1500]),
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
train_cfg = dict(max_iters=2000, val_interval=1000)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
