# IL2Vseg on frozen DINO ViT-S/8 features, MaSTr1325 with 3 classes (paper
# Table 3: 93.6 Acc / 82.5 mIoU, with CRF). The paper gives no split (mmuss's
# converter writes a seeded 80/20 one, splits/{train,val}.txt), no
# smoothness or STEGO constants for this dataset: Potsdam's (3 classes,
# outdoor), batch 32, 3,000 steps, seed 0.
_base_ = [
    '../_base_/models/uss_il2vseg_dino_vits8.py',
    '../_base_/datasets/mastr1325.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/il2vseg_adam_3k.py',
]
crop_size = (224, 224)
model = dict(
    decode_head=dict(
        num_prototypes=3,
        loss_smooth=dict(shift_self=0.1, shift_rand=0.5),
        loss_corr=dict(
            weight_self=0.67,
            weight_knn=0.25,
            weight_rand=0.63,
            shift_self=0.08,
            shift_knn=0.02,
            shift_rand=0.46,
        ),
    ),
    num_classes=3,
)
train_dataloader = dict(batch_size=32)
randomness = dict(seed=0)
