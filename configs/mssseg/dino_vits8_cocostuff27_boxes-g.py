# MSSSeg Table VI (g) (COCO-Stuff-27: 69.7 / 29.1): box sizes f plus 128
# (a box of 128 "covers more than a quarter" of a 224 image). The sets of
# rows a-e were lost from the text; pass them as dbc.box_sizes tuples.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(box_sizes='g')))
