# UniM2 on MFNet (8 classes), RGB + thermal, frozen DINOv3 ViT-B/16.
# Prepare: tools/dataset_converters/mfnet.py, then five_crop.py and
# precompute_knn.py on this config (KNN on RGB only), then train.
# Hyperparameters: Hatins/UniM2 src/configs/train_config_mfnet.yml (commit
# 08fa082), from a 200-trial Optuna search on ground-truth validation mIoU
# (supplement Sec. 3-4); used as released, last checkpoint kept.
# Supplement Tab. 1 (MFNet, ViT-B/16): UniM2 RGB+T 45.7 mIoU / 76.1 Acc.
_base_ = [
    './_unim2_dinov3_vits16.py',
    '../_base_/datasets/mfnet8.py',
]
lr = 7.88e-05  # searched on GT val mIoU (released)
max_iters = 13000  # released max_steps
model = dict(
    data_preprocessor=dict(
        aux_channels={{_base_.modality_aux_channels}},
    ),
    backbone=dict(
        arch='base',
        init_cfg=dict(
            checkpoint='checkpoints/'
            'dinov3_vitb16_pretrain_lvd1689m-73cec8be.pth'
        ),
    ),
    decode_head=dict(
        in_channels=768,
        modalities=('thermal',),
        channels=90,  # code dim, released
        loss_cmcs=dict(
            modalities=dict(
                # released rgb_* / thermal_* values (GT-val search)
                image=dict(
                    weight_knn=0.3334,
                    weight_self=0.0606,
                    weight_rand=0.9262,
                    shift_knn=0.7800,
                    shift_self=0.9607,
                    shift_rand=0.7760,
                    loss_weight=0.0478,
                ),
                thermal=dict(
                    weight_knn=0.9124,
                    weight_self=0.2388,
                    weight_rand=0.5064,
                    shift_knn=0.2864,
                    shift_self=0.0096,
                    shift_rand=0.5540,
                    loss_weight=0.4922,
                ),
            ),
        ),
    ),
    num_classes=8,
)
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        _delete_=True,
        type='KNNPairDataset',
        knn_file='nns/nns_dinov3_vit_base_mfnet8_train_five_224.npz',
        num_neighbors=7,
        dataset=dict(
            type='MFNet8Dataset',
            data_root='data/mfnet/five_crop_0.5',
            ann_file='splits/train.txt',
            data_prefix=dict(
                img_path='img_dir/all', seg_map_path='ann_dir/all'
            ),
            pipeline={{_base_.train_pipeline}},
        ),
    ),
)
optim_wrapper = dict(
    optimizer=dict(lr=lr),
    paramwise_cfg=dict(
        custom_keys={
            'cluster_probe': dict(lr_mult=5e-3 / lr),
            'linear_probe': dict(lr_mult=5e-3 / lr),
        }
    ),
)
train_cfg = dict(max_iters=max_iters, val_interval=1000)
