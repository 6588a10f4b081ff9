# DS²DL ablation (paper Table 2, Cityscapes-27, DINO ViT-S/8): "w/o
# orthogonality regularization", 84.3 / 20.5 Acc / mIoU (full model 84.6 /
# 20.8).
_base_ = './dino_vits8_cityscapes27.py'
model = dict(decode_head=dict(loss_cluster=dict(loss_orth_weight=0.0)))
