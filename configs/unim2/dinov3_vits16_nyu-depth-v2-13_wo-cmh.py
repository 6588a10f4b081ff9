# UniM2 on NYU-Depth-v2 without CMH: the HHA correspondence loss on S
# itself (supplement Sec. 3, Fig. 3: the auxiliary loss then rises).
_base_ = './dinov3_vits16_nyu-depth-v2-13.py'
model = dict(decode_head=dict(use_cmh=False))
