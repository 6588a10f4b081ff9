# DINO baseline (cluster probe, frozen DINO ViT-S/8 features), pascal_voc21.
_base_ = [
    '../_base_/models/uss_dino_vits8.py',
    '../_base_/datasets/pascal_voc21.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
crop_size = (224, 224)
model = dict(data_preprocessor=dict(size=crop_size), num_classes=21)
