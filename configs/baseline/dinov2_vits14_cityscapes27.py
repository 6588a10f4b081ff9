# DINO baseline (cluster probe, frozen DINOv2 ViT-S/14 features), cityscapes27.
_base_ = [
    '../_base_/models/uss_dinov2_vits14.py',
    '../_base_/datasets/cityscapes27.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
crop_size = (224, 224)
model = dict(data_preprocessor=dict(size=crop_size), num_classes=27)
# Patch-14 backbones are evaluated at 322 (23x23 patches).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=322, as_original=True),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
