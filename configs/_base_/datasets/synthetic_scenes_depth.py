# The embedded synthetic scenes with a depth map stacked onto every image:
# the scenes' depth "sensor" (mmuss.datasets.synthetic.depth: a surface per
# region, sky far, things in front; 16-bit relative inverse depth, min-max
# per image, like tools/precompute_depth.py's Depth Anything maps), written
# by the dataset on first use (depth_map_dir) — no depth network needed.
_base_ = './synthetic_scenes.py'
load_depth = dict(
    type='LoadDenseMap', name='depth', map_dir='depth', scale=1 / 65535
)
depth_aux_channel = dict(name='depth', mean=[0.0], std=[1.0])
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
train_dataloader = dict(
    dataset=dict(depth_map_dir='depth', pipeline=train_pipeline)
)
val_dataloader = dict(
    dataset=dict(depth_map_dir='depth', pipeline=test_pipeline)
)
test_dataloader = dict(
    dataset=dict(depth_map_dir='depth', pipeline=test_pipeline)
)
