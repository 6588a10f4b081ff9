# The embedded default's baseline with a randomly initialised backbone
# instead of the self-supervised one: what the features of an untrained
# ViT give (cluster probe on frozen features). Other methods on the random
# backbone: put '../_base_/models/uss_tiny-vit_random.py' in their _base_.
_base_ = ['./tiny-vit_synthetic.py']
model = dict(backbone=dict(init_cfg=None, init_seed=0))
