# "SotA + PriMaPs-EM" (PriMaPs Sec. 4): the prototypes are fitted on the
# codes of a trained STEGO head (frozen, loaded from its checkpoint), while
# the mask proposals come from the DINO ViT-B/8 backbone features as in
# dino_vitb8_cocostuff.py. Train STEGO first
# (configs/stego/dino_vitb8_cocostuff27.py), then set stego_checkpoint.
_base_ = ['./dino_vitb8_cocostuff.py']
stego_checkpoint = 'work_dirs/stego/dino_vitb8_cocostuff27/iter_5000.pth'
model = dict(
    decode_head=dict(
        feature_head=dict(
            type='StegoHead',
            in_channels=768,
            channels=70,
            projection='nonlinear',
        ),
        feature_head_checkpoint=stego_checkpoint,
    )
)
