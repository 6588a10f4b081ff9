# IL2Vseg Table 4, "+L_fs" row (Cityscapes: 81.1 Acc / 19.6 mIoU): L_smo
# with the fused cue's L_fs and L_reg, no L_corr.
_base_ = './dino_vits8_cityscapes27.py'
model = dict(decode_head=dict(corr_view=None))
