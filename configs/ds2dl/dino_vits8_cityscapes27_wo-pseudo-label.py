# DS²DL ablation (paper Table 2, Cityscapes-27, DINO ViT-S/8): "w/o pseudo
# label supervision", 83.8 / 20.1 Acc / mIoU (full model 84.6 / 20.8).
_base_ = './dino_vits8_cityscapes27.py'
model = dict(decode_head=dict(loss_cluster=dict(loss_data_weight=0.0)))
