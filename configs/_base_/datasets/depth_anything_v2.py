# Depth priors for MSSSeg-style heads (§3.1): a frozen Depth Anything V2
# Small's relative inverse depth, min-max normalised per image to a 16-bit
# PNG under <data_root>/depth (tools/precompute_depth.py CONFIG writes them
# for the train, val and test images). Add this file to a leaf config's
# _base_, insert {{_base_.load_depth}} after LoadImageFromFile in each
# pipeline, pack with PackUSSInputs and add {{_base_.depth_aux_channel}} to
# the data preprocessor's aux_channels; a head then reads inputs['depth']
# (D in [0, 1], as loaded). A missing map names the tool.
depth_map_dir = 'depth'
load_depth = dict(
    type='LoadDenseMap',
    name='depth',
    map_dir=depth_map_dir,
    scale=1 / 65535,
    tool='tools/precompute_depth.py',
)
depth_aux_channel = dict(name='depth', mean=[0.0], std=[1.0])
# The standard unsupervised-segmentation pipelines (224 training crops,
# 320 evaluation, STEGO's protocol) with the depth map stacked on.
depth_train_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=224),
    dict(type='PackUSSInputs'),
]
depth_test_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=320, as_original=True),
    dict(type='PackUSSInputs'),
]
