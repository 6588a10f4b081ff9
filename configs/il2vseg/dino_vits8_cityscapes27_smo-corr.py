# IL2Vseg Table 4, "+L_corr" row (Cityscapes: 80.3 Acc / 18.3 mIoU): L_smo
# with L_corr, no L_fs / L_reg (so no cue).
_base_ = './dino_vits8_cityscapes27.py'
model = dict(
    decode_head=dict(loss_fs=dict(loss_weight_fs=0.0, loss_weight_reg=0.0))
)
