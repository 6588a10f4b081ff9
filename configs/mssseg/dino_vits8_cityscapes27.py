# MSSSeg on frozen DINO ViT-S/8 features, Cityscapes-27 (paper Table 1:
# 85.3 Acc / 22.1 mIoU); the Pseudo Head with STEGO's Cityscapes constants.
# Prepare five crops, KNN pairs and depth maps as for COCO-Stuff.
_base_ = [
    '../_base_/models/uss_mssseg_dino_vits8.py',
    '../_base_/datasets/cityscapes27_knn_depth.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/mssseg_adam_5k.py',
]
crop_size = (224, 224)
model = dict(
    decode_head=dict(
        pseudo_head=dict(
            loss_corr=dict(
                weight_self=1.0,
                weight_knn=0.5775,
                weight_rand=0.9059,
                shift_self=0.4583,
                shift_knn=0.1754,
                shift_rand=0.3136,
            )
        )
    )
)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(knn_file='nns/nns_vit_small_cityscapes_train_five_224.npz'),
)
