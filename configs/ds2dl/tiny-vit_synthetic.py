# DS²DL on the embedded synthetic scenes with the demo's self-supervised ViT
# (no precomputation needed):
#   python tools/train.py configs/ds2dl/tiny-vit_synthetic.py
# The paper's hyperparameters (D = 64, tau = 0.1, alpha = 0.998, Sinkhorn 3
# iterations at eps = 0.1 per image, all loss weights 1, RAdam) with r = 2.1
# and the demo's batch (8) and 2,000 steps; K = 11 clusters, predicted by
# the global prototypes. The decode.usage_* log scalars show how the pixels
# spread over the global clusters (a collapse is visible there).
_base_ = [
    '../_base_/models/uss_tiny-vit.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/ds2dl_radam_8k.py',
]
model = dict(
    decode_head=dict(
        _delete_=True,
        type='DS2DLHead',
        in_channels=96,
        num_prototypes=11,
        channels=64,
        loss_affinity=dict(type='DS2DLAffinityLoss', r=2.1),
        loss_cluster=dict(type='DS2DLClusterLoss'),
    ),
    cluster_source='head',
    cluster_probe=None,
)
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1000))
