# The embedded default: the DINO baseline (cluster probe on frozen
# features) with a small randomly initialised ViT-8 on the generated
# synthetic scenes. Runs on a CPU in a few minutes with no download:
#   python tools/train.py configs/baseline/tiny-vit_synthetic.py
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300))
