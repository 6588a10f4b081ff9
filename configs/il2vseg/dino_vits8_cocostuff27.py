# IL2Vseg on frozen DINO ViT-S/8 features, COCO-Stuff-27 (paper Table 1:
# 65.1 Acc / 27.6 mIoU, with CRF). Batch, steps and seed are not given:
# SmooSeg's (batch 32, 3,000 steps, seed 123456, five-crop 224 training
# set); SmooSeg's COCO smoothness shifts (-0.02 / 0.48) and STEGO's COCO
# weights and shifts for L_corr. Prepare the five-crop set with
# tools/dataset_converters/five_crop.py.
_base_ = [
    '../_base_/models/uss_il2vseg_dino_vits8.py',
    '../_base_/datasets/cocostuff27.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/il2vseg_adam_3k.py',
]
crop_size = (224, 224)
model = dict(
    decode_head=dict(
        loss_smooth=dict(shift_self=-0.02, shift_rand=0.48),
        loss_corr=dict(
            weight_self=0.67,
            weight_knn=0.25,
            weight_rand=0.63,
            shift_self=0.08,
            shift_knn=0.02,
            shift_rand=0.66,
        ),
    ),
)
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        data_root='data/cocostuff/five_crop_0.5',
        ann_file='curated/train2017/Coco164kFull_Stuff_Coarse.txt',
    ),
)
randomness = dict(seed=123456)
