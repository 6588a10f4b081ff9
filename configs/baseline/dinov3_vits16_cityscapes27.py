# DINO baseline (cluster probe, frozen DINOv3 ViT-S/16 features), cityscapes27.
# UniM2 supplement Tab. 3 ("DINOv3 ViT-S/16" row, Cityscapes-27): 12.3 mIoU.
_base_ = [
    '../_base_/models/uss_dinov3_vits16.py',
    '../_base_/datasets/cityscapes27.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
crop_size = (224, 224)
model = dict(data_preprocessor=dict(size=crop_size), num_classes=27)
