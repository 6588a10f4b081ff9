# The embedded default dataset: generated on first use, no download.
# 400 training and 100 validation scenes of generator seed `scene_seed`, and
# a held-out test split of 100 scenes of another seed (scene_seed + 1000):
# tools/test.py evaluates on it, so a model is scored on scenes it was never
# tuned on. Another generator setting needs its own data_root (the generator
# refuses to mix settings in one folder).
dataset_type = 'SyntheticScenesDataset'
data_root = 'data/synthetic_scenes_v2'
scene_seed = 0
image_size = 128
scenes = dict(
    type=dataset_type,
    data_root=data_root,
    seed=scene_seed,
    num_train=400,
    num_val=100,
    num_test=100,
    image_size=image_size,
)
crop_size = (image_size, image_size)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(scenes, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(scenes, split='val', pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader, dataset=dict(scenes, split='test', pipeline=test_pipeline)
)
val_evaluator = dict(type='HungarianIoUMetric')
test_evaluator = val_evaluator
