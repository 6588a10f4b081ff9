# MSSSeg Table 3 (C), L_cont + L_distill + L_align (COCO-Stuff-27,
# ViT-S/8: 64.3 / 26.5); (D), with L_PH, is ./dino_vits8_cocostuff27.py.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(loss_ph=dict(loss_weight=0.0)))
