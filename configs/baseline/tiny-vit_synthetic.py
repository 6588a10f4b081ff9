# The embedded default: the DINO baseline (cluster probe on frozen
# features) with the demo's small self-supervised ViT-8 on the generated
# synthetic scenes. Runs on a CPU in a few minutes with no download:
#   python tools/train.py configs/baseline/tiny-vit_synthetic.py
# Validation every 500 steps shows the score along the schedule; the test
# split (tools/test.py) holds scenes of a held-out generator seed.
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
# 2,000 steps; the probe's centres are re-seeded by spherical k-means at
# step 1,500 and refined until the end.
model = dict(cluster_probe=dict(reset_steps=[1500]))
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
