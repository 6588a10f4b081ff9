# MSSSeg Table 3 (A), L_cont only (COCO-Stuff-27, ViT-S/8: 54.5 / 21.7).
# The Pseudo Head's own losses and the DCA decoder's L_dca stay on (the
# table lists the Seg Head's objectives only).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    decode_head=dict(
        loss_pixel=dict(loss_distill_weight=0.0),
        loss_align=dict(loss_weight=0.0),
        loss_ph=dict(loss_weight=0.0),
    )
)
