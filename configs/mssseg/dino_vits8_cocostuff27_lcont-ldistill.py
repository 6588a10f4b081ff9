# MSSSeg Table 3 (B), L_cont + L_distill (COCO-Stuff-27, ViT-S/8:
# 59.0 / 22.9).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    decode_head=dict(
        loss_align=dict(loss_weight=0.0), loss_ph=dict(loss_weight=0.0)
    )
)
