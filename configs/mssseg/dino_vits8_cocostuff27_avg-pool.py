# MSSSeg Table VIII, multi-scale average pooling instead of the box counts'
# max pooling (COCO-Stuff-27: 59.7 / 19.4).
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(pool='avg')))
