# MSSSeg Table 2 (v), w/o DB: 68.8 / 29.1 (COCO-Stuff-27, ViT-S/8; the
# table's column headers are lost from the text, the row-to-descriptor
# mapping follows the prose): DBC without the DB descriptor.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(descriptors=('SA', 'SB', 'DA'))))
