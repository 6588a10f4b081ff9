# DS²DL ablation (paper Table 2, Cityscapes-27, DINO ViT-S/8): "w/o cross-image
# sample pairs", 55.6 / 12.1 Acc / mIoU (full model 84.6 / 20.8).
_base_ = './dino_vits8_cityscapes27.py'
model = dict(decode_head=dict(loss_affinity=dict(cross_pairs=False)))
