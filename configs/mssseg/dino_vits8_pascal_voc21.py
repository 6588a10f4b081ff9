# MSSSeg on frozen DINO ViT-S/8 features, PASCAL VOC 2012 with 21 classes
# (paper supplement, Table V: 55.6 mIoU). No KNN file for VOC: the Pseudo
# Head trains STEGO's self and random terms only (weight_knn = 0).
_base_ = [
    '../_base_/models/uss_mssseg_dino_vits8.py',
    '../_base_/datasets/pascal_voc21_depth.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/mssseg_adam_5k.py',
]
crop_size = (224, 224)
model = dict(
    decode_head=dict(
        num_prototypes=21,
        pseudo_head=dict(knn_view=None, loss_corr=dict(weight_knn=0.0)),
    ),
    num_classes=21,
)
