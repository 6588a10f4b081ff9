# The embedded default's baseline with a randomly initialised backbone
# instead of the self-supervised one: what the features of an untrained
# ViT give (cluster probe on frozen features).
_base_ = [
    '../_base_/models/uss_tiny-vit_random.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/probe_adam_2k.py',
]
model = dict(cluster_probe=dict(reset_steps=[1500]))
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
