# MSSSeg Table 2 (i), w/o StructAug (COCO-Stuff-27, ViT-S/8: 67.9 / 28.7):
# the Seg Head trains on the clean image and predicts without StructAug
# test-time views.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(aug_view=None))
