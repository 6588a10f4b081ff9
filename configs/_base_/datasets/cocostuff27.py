# COCO-Stuff-27 in the unsupervised protocol: training crops resized to 224
# and centre-cropped; evaluation on the curated IIC val list (2,175 images)
# resized to 320 (short side) and centre-cropped to 320x320.
# Prepare with tools/dataset_converters/cocostuff27.py (see README).
dataset_type = 'COCOStuff27Dataset'
data_root = 'data/cocostuff'
crop_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=224),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=320, as_original=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='curated/train2017/Coco164kFull_Stuff_Coarse_7.txt',
        data_prefix=dict(
            img_path='images/train2017', seg_map_path='annotations/train2017'
        ),
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
        ann_file='curated/val2017/Coco164kFull_Stuff_Coarse_7.txt',
        data_prefix=dict(
            img_path='images/val2017', seg_map_path='annotations/val2017'
        ),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='HungarianIoUMetric')
test_evaluator = val_evaluator
