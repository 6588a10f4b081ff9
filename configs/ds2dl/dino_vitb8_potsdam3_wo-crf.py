# DS²DL without the dense CRF (paper Table 3, Potsdam-3, DINO ViT-B/8): 83.6 /
# 71.8 Acc / mIoU (85.2 / 74.1 with CRF, ./dino_vitb8_potsdam3.py). Only the
# evaluation differs: a checkpoint of ./dino_vitb8_potsdam3.py can be tested
# with either.
_base_ = './dino_vitb8_potsdam3.py'
model = dict(test_cfg=dict(use_crf=False))
