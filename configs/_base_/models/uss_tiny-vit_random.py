# The embedded demo's ViT (4 layers, 96-d, patch 8) randomly initialised
# instead of self-supervised: the same random weights in every process and
# tool (init_seed), whatever the run's seed. Its features are linearly
# separable but do not group by class the way self-supervised ones do.
_base_ = './uss_tiny-vit.py'
model = dict(backbone=dict(init_cfg=None, init_seed=0))
