# IL2Vseg on frozen DINO ViT-S/8 features, Potsdam-3. The paper lists
# Potsdam-3 among its datasets but reports no number for it anywhere: there
# is no reference figure to compare with. SmooSeg's Potsdam protocol (batch
# 32, 3,000 steps, seed 0, no five-crop, evaluation at 224), its Potsdam
# smoothness shifts (0.10 / 0.50) and STEGO's Potsdam weights and shifts for
# L_corr; K = 3.
_base_ = [
    '../_base_/models/uss_il2vseg_dino_vits8.py',
    '../_base_/datasets/potsdam3.py',
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeCenterCrop', size=224, as_original=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=32)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
randomness = dict(seed=0)
