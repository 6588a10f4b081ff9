# STEGO on the embedded synthetic scenes with the demo's self-supervised ViT.
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
# Loss weights and shifts for this backbone and dataset. Shifts: between the
# mean feature correlations (centring 'stego') of same-class and
# different-class pairs of this backbone on training scenes (self pairs 0.80
# vs 0.25, random pairs 0.46 vs 0.00); then, as upstream STEGO tuned its own,
# a small manual search on the validation mIoU of run seed 0 (6 settings;
# the README lists them). This uses ground truth for a hyperparameter
# choice, as every upstream config does; no checkpoint is selected on it.
model = dict(
    decode_head=dict(
        type='StegoHead',
        in_channels=96,
        channels=70,
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
    cluster_probe=dict(reset_steps=[1500]),
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file=knn_file,
        dataset={{_base_.train_dataloader.dataset}},
    )
)
train_cfg = dict(max_iters=2000, val_interval=1000)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
