# IL2Vseg on COCO-Stuff-27 with the low-level cue also at test time: the
# paper gives alpha = 0.5 "during the training phase" only; this applies the
# cue to the prediction (LowLevelCueRefiner: Eq. 13 on probabilities, the
# cue on the 1/8 feature grid) before the CRF.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(
    test_cfg=dict(
        refiners=[
            dict(
                type='LowLevelCueRefiner',
                alpha=0.5,
                stride=8,
                sigma=0.1,
                m=2.0,
                num_iters=10,
            )
        ]
    )
)
