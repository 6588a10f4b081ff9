# DS²DL ablation (paper Table 2, Cityscapes-27, DINO ViT-S/8): "w/o intra-image
# sample pairs", 32.5 / 5.5 Acc / mIoU (full model 84.6 / 20.8).
_base_ = './dino_vits8_cityscapes27.py'
model = dict(decode_head=dict(loss_affinity=dict(intra_pairs=False)))
