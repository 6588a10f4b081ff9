# Shared by the UniM2 leaf configs: frozen DINOv3 ViT-S/16, UniM2Head,
# STEGO's schedule with UniM2's batch (32), Adam, probes at 5e-3 as upstream
# (lr_mult = 5e-3 / lr, set by each leaf), the last checkpoint kept (no
# save_best: upstream kept its top-3 checkpoints by ground-truth val mIoU,
# which mmuss never does). Leaf configs set the dataset, modalities, the
# CMCS weights and shifts, code dim, lr and steps.
_base_ = [
    '../_base_/models/uss_dinov3_vits16.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/stego_adam_5k.py',
]
# Common settings of every released UniM2 config (Hatins/UniM2
# src/configs/train_config_*.yml): 11x11 sample points, 5 negatives,
# pointwise (upstream) centring, zero clamp, super_perm negatives, 7 KNN
# neighbours from the RGB image only.
model = dict(
    data_preprocessor=dict(size=(224, 224)),
    decode_head=dict(
        _delete_=True,
        type='UniM2Head',
        in_channels=384,
        channels=70,
        projection='nonlinear',
        dropout_ratio=0.1,
        fusion=dict(mode='concat_conv', normalize=True),
        msn_residual=False,
        use_cmh=True,
        knn_view='knn_img',
        # leaf configs add the per-modality weights and shifts; the fused
        # width is C (modality_fusion_output_dim 384 / 768 upstream)
        loss_cmcs=dict(
            type='CMCSLoss',
            num_samples=11,
            num_negatives=5,
            centering='stego',
            zero_clamp=True,
            negative_sampling='stego',
        ),
    ),
)
