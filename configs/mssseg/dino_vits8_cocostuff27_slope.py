# MSSSeg Table VII, scalar box-counting dimension (the slope of log N_s
# over log 1/s, supplement Eq. XII) instead of the signature
# (COCO-Stuff-27: 65.1 / 22.8 against 71.1 / 30.2).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(signature='slope')))
