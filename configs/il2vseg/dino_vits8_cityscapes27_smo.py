# IL2Vseg Table 4, first row (Cityscapes, L_smo only: 75.7 Acc / 17.4 mIoU):
# no L_fs / L_reg (weights 0, so the cue is not computed) and no L_corr.
_base_ = './dino_vits8_cityscapes27.py'
model = dict(
    decode_head=dict(
        loss_fs=dict(loss_weight_fs=0.0, loss_weight_reg=0.0), corr_view=None
    )
)
