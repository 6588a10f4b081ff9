# MSSSeg Table 2 (ii), w/o SA: 69.9 / 29.5 (COCO-Stuff-27, ViT-S/8; the
# table's column headers are lost from the text, the row-to-descriptor
# mapping follows the prose): DBC without the SA descriptor.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(descriptors=('SB', 'DA', 'DB'))))
