# DS²DL on frozen DINO ViT-B/8 features, Potsdam-3: dino_vits8_potsdam3.py with
# the backbone of ../_base_/models/uss_dino_vitb8.py and the head width (768)
# (tests/test_configs.py checks that the backbone equals that base's).
# The paper's Potsdam-3 row (Table 1: 85.2 Acc / 74.1 mIoU with CRF;
# Table 3 without CRF: ./dino_vitb8_potsdam3_wo-crf.py).
_base_ = './dino_vits8_potsdam3.py'
model = dict(
    backbone=dict(
        arch='dino-base',
        patch_size=8,
        init_cfg=dict(
            checkpoint='https://dl.fbaipublicfiles.com/dino/'
            'dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth'
        ),
    ),
    decode_head=dict(in_channels=768),
)
