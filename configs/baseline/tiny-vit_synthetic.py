# The embedded default: the DINO baseline (cluster probe on frozen
# features) with a small randomly initialised ViT-8 on the generated
# synthetic scenes. Runs on a CPU in a few minutes with no download:
#   python tools/train.py configs/baseline/tiny-vit_synthetic.py
_base_ = [
    '../_base_/models/uss_dino_vits8.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=96,
            num_layers=4,
            num_heads=3,
            feedforward_channels=384,
        ),
        patch_size=8,
        img_size=128,
        init_cfg=None,
    ),
    decode_head=dict(in_channels=96),
    num_classes=6,
    test_cfg=dict(flip=False),
)
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300))
