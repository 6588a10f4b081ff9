# DS²DL without the dense CRF (paper Table 3, COCO-Stuff-27, DINO ViT-S/8):
# 62.0 / 26.0 Acc / mIoU (65.0 / 27.8 with CRF, ./dino_vits8_cocostuff27.py).
# Only the evaluation differs: a checkpoint of ./dino_vits8_cocostuff27.py can
# be tested with either.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(test_cfg=dict(use_crf=False))
