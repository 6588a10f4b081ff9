# DS²DL without the dense CRF (paper Table 3, Cityscapes-27, DINO ViT-S/8):
# 80.2 / 19.6 Acc / mIoU (84.6 / 20.8 with CRF, ./dino_vits8_cityscapes27.py).
# Only the evaluation differs: a checkpoint of ./dino_vits8_cityscapes27.py can
# be tested with either.
_base_ = './dino_vits8_cityscapes27.py'
model = dict(test_cfg=dict(use_crf=False))
