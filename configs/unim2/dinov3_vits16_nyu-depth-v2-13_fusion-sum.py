# UniM2 (CMCS + CMH) on NYU-Depth-v2 with 'sum' fusion of the
# L2-normalised MSN outputs instead of Cat+Conv (fusion ablation).
_base_ = './dinov3_vits16_nyu-depth-v2-13.py'
model = dict(
    decode_head=dict(fusion=dict(_delete_=True, mode='sum', normalize=True))
)
