# MoCo v2 baseline (cluster probe, frozen MoCo v2 ResNet-50 last-stage
# features), cocostuff27: IL2Vseg Table 1's "MoCoV2 ResNet50" row.
_base_ = [
    '../_base_/models/uss_moco_r50.py',
    '../_base_/datasets/cocostuff27.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
crop_size = (224, 224)
model = dict(data_preprocessor=dict(size=crop_size), num_classes=27)
