# Supplement Tab. 2 ablation on NYU-Depth-v2 (ViT-S/16), alignment
# 'cosine', fusion 'conv': cosine alignment (supplement Eq. 4) of the HHA MSN
# output to the frozen RGB features, with STEGO's loss on the fused code
# against the RGB features; CMCS and CMH off.
# STEGO's weights and shifts: the released RGB values of the UniM2 config
# ([choice]: the supplement does not give those of its baselines); the
# alignment weight is 1 ([choice]).
_base_ = './dinov3_vits16_nyu-depth-v2-13.py'
model = dict(
    decode_head=dict(
        fusion=dict(_delete_=True, mode='concat_conv', normalize=True),
        use_cmh=False,
        loss_cmcs=dict(
            modalities=dict(_delete_=True, image={{_base_.image_cmcs}})
        ),
        loss_align=dict(type='ModalityAlignmentLoss', mode='cosine'),
    )
)
