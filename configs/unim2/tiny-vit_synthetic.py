# UniM2 on the embedded synthetic scenes: the image plus the scenes'
# synthetic depth sensor (mmuss/datasets/synthetic/depth.py; 16-bit maps
# written on first use under <data_root>/depth) as a second modality,
# replicated to three channels as UniM2 encodes one-channel sensors, through
# the demo's frozen self-supervised ViT. The KNN file is STEGO's demo file
# (neighbours from the RGB image, shared by both modalities, as upstream):
#   python tools/precompute_knn.py configs/unim2/tiny-vit_synthetic.py
#   python tools/train.py configs/unim2/tiny-vit_synthetic.py
# Image weights and shifts: STEGO's demo values (configs/stego/
# tiny-vit_synthetic.py). Depth: [choice] the same values and modality
# weights 1 (image) and 0.5 (depth), not searched; code dim 70, lr 5e-4,
# 2,000 steps and probe reset as STEGO's demo, so the two compare.
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/stego_adam_5k.py',
]
knn_file = 'nns/nns_tiny-vit_synthetic_train_none_128.npz'
depth_dir = 'depth'
stego_demo_cmcs = dict(
    weight_self=0.1,
    weight_knn=0.5,
    weight_rand=1.0,
    shift_self=0.5,
    shift_knn=0.3,
    shift_rand=0.3,
)
load_depth = dict(
    type='LoadModality',
    name='depth',
    modality_dir=depth_dir,
    encoding='replicate',
    scale=255 / 65535,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackUSSInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(type='LoadAnnotations'),
    dict(type='PackUSSInputs'),
]
model = dict(
    data_preprocessor=dict(
        aux_channels=[
            dict(
                name='depth',
                channels=3,
                modality=True,
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
            )
        ]
    ),
    decode_head=dict(
        _delete_=True,
        type='UniM2Head',
        in_channels=96,
        channels=70,
        modalities=('depth',),
        fusion=dict(mode='concat_conv', normalize=True),
        dropout_ratio=0.1,
        use_cmh=True,
        loss_cmcs=dict(
            type='CMCSLoss',
            num_samples=11,
            num_negatives=5,
            centering='stego',
            modalities=dict(
                image=dict(stego_demo_cmcs, loss_weight=1.0),
                depth=dict(stego_demo_cmcs, loss_weight=0.5),
            ),
        ),
    ),
    cluster_probe=dict(reset_steps=[1500]),
)
scene_args = dict(
    type='SyntheticScenesDataset',
    data_root='data/synthetic_scenes_v2',
    seed=0,
    num_train=400,
    num_val=100,
    num_test=100,
    image_size=128,
    depth_map_dir=depth_dir,
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file=knn_file,
        dataset=dict(scene_args, split='train', pipeline=train_pipeline),
    )
)
val_dataloader = dict(
    dataset=dict(scene_args, split='val', pipeline=test_pipeline)
)
test_dataloader = dict(
    dataset=dict(scene_args, split='test', pipeline=test_pipeline)
)
train_cfg = dict(max_iters=2000, val_interval=1000)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
