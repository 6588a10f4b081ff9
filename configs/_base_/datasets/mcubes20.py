# MCubeS with 20 material classes and the AoLP, DoLP and NIR modalities
# (UniM2): 302 train / 96 val / 102 test image sets, each 192 px narrower
# than the camera images (the converter drops the left columns as upstream);
# UniM2 evaluates on the test list, resized to 320 (short side) and
# centre-cropped. Prepare with tools/dataset_converters/mcubes.py. AoLP
# (stored as (sin, cos, sin)), DoLP and NIR (replicated) are stacked onto
# the RGB image in this order (channels 3-11); a leaf config using a subset
# (UniM2's IA, ID, IN, IND) keeps the same entries of load_modalities and
# modality_aux_channels.
dataset_type = 'MCubeS20Dataset'
data_root = 'data/mcubes'
crop_size = (224, 224)
# ImageNet mean/std for every modality, as upstream (RGB order: the data
# preprocessor's bgr_to_rgb reverses each modality's channels as the image's)
imagenet_mean = [123.675, 116.28, 103.53]
imagenet_std = [58.395, 57.12, 57.375]
load_modalities = [
    dict(type='LoadModality', name='aolp', modality_dir='aolp'),
    dict(
        type='LoadModality',
        name='dolp',
        modality_dir='dolp',
        encoding='replicate',
    ),
    dict(
        type='LoadModality',
        name='nir',
        modality_dir='nir',
        encoding='replicate',
    ),
]
modality_aux_channels = [
    dict(
        name=name,
        channels=3,
        modality=True,
        mean=imagenet_mean,
        std=imagenet_std,
    )
    for name in ('aolp', 'dolp', 'nir')
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    *load_modalities,
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=224),
    dict(type='PackUSSInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    *load_modalities,
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=320, as_original=True),
    dict(type='PackUSSInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/train.txt',
        data_prefix=dict(img_path='img_dir/all', seg_map_path='ann_dir/all'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/test.txt',
        data_prefix=dict(img_path='img_dir/all', seg_map_path='ann_dir/all'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='HungarianIoUMetric')
test_evaluator = val_evaluator
