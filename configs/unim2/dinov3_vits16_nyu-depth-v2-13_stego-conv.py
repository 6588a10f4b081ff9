# Supplement Tab. 2 ablation on NYU-Depth-v2 (ViT-S/16), alignment
# 'none', fusion 'conv': multi-modal STEGO without alignment: the fused code
# trained by STEGO's loss against the RGB features only; CMCS and CMH off.
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
    )
)
