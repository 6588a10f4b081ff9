# The design card's example, `python tools/train.py
# configs/primaps/dinov2_cityscapes.py`: PriMaPs-EM with DINOv2 ViT-S/14 on
# Cityscapes-27 (see dinov2_vits14_cityscapes.py; dinov2_vitb14_cityscapes.py
# is the ViT-B/14 variant).
_base_ = ['./dinov2_vits14_cityscapes.py']
