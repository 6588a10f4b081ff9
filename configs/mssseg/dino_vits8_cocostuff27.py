# MSSSeg on frozen DINO ViT-S/8 features, COCO-Stuff-27 (paper Table 1:
# 71.1 Acc / 30.2 mIoU). Training data: STEGO's five-crop set with KNN
# pairs (the Pseudo Head's protocol; the paper's "resized and randomly
# cropped" size is lost from its text) and Depth Anything V2 maps:
#   python tools/dataset_converters/five_crop.py CONFIG
#   python tools/precompute_knn.py CONFIG
#   python tools/precompute_depth.py CONFIG
_base_ = [
    '../_base_/models/uss_mssseg_dino_vits8.py',
    '../_base_/datasets/cocostuff27_knn_depth.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/mssseg_adam_5k.py',
]
crop_size = (224, 224)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(knn_file='nns/nns_vit_small_cocostuff27_train_five_224.npz'),
)
