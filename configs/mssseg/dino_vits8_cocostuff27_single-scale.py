# MSSSeg Table VIII, single-scale DBC (COCO-Stuff-27: 60.1 / 19.6). The
# scale is not given; 8 (the middle of f) is our choice.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(box_sizes=(8,))))
