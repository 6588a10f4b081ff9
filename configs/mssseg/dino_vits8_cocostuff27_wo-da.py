# MSSSeg Table 2 (iv), w/o DA: 69.4 / 29.2 (COCO-Stuff-27, ViT-S/8; the
# table's column headers are lost from the text, the row-to-descriptor
# mapping follows the prose): DBC without the DA descriptor.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(decode_head=dict(dbc=dict(descriptors=('SA', 'SB', 'DB'))))
