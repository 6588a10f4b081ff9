# "SotA + PriMaPs-EM" on the embedded synthetic scenes: the prototypes are
# fitted on the codes of the trained STEGO demo head (frozen), while the
# proposals come from the backbone features as in tiny-vit_synthetic.py.
#   python tools/train.py configs/stego/tiny-vit_synthetic.py
#   python tools/precompute_primaps.py configs/primaps/tiny-vit_synthetic.py
#   python tools/train.py configs/primaps/stego_tiny-vit_synthetic.py
_base_ = ['./tiny-vit_synthetic.py']
stego_checkpoint = 'work_dirs/stego/tiny-vit_synthetic/iter_2000.pth'
model = dict(
    decode_head=dict(
        feature_head=dict(type='StegoHead', in_channels=96, channels=70),
        feature_head_checkpoint=stego_checkpoint,
    )
)
