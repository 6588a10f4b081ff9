# MFNet with 8 classes and the thermal modality (UniM2): 784 train / 392
# val / 393 test images; UniM2 evaluates on the test list. Evaluation
# resized to 320 (short side) and centre-cropped. Prepare with
# tools/dataset_converters/mfnet.py. The thermal image, replicated to 3
# channels as upstream, is stacked onto the RGB image (channels 3-5); a leaf
# config sets the data preprocessor's aux_channels=modality_aux_channels.
dataset_type = 'MFNet8Dataset'
data_root = 'data/mfnet'
crop_size = (224, 224)
# ImageNet mean/std for every modality, as upstream (RGB order: the data
# preprocessor's bgr_to_rgb reverses each modality's channels as the image's)
imagenet_mean = [123.675, 116.28, 103.53]
imagenet_std = [58.395, 57.12, 57.375]
load_modalities = [
    dict(
        type='LoadModality',
        name='thermal',
        modality_dir='thermal',
        encoding='replicate',
    ),
]
modality_aux_channels = [
    dict(
        name='thermal',
        channels=3,
        modality=True,
        mean=imagenet_mean,
        std=imagenet_std,
    ),
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
