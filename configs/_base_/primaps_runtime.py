# default_runtime plus PriMaPs-EM's hooks: prototype initialisation (PCA
# of 2,975 training images, then 2 epochs of cosine k-means) and the EMA of
# the momentum prototypes every 10 steps. Epoch-based logging.
_base_ = './default_runtime.py'
log_processor = dict(by_epoch=True)
custom_hooks = [
    dict(type='ClassCountCheckHook'),
    dict(type='CheckpointCheckHook'),
    dict(type='NonFiniteCheckHook'),
    dict(type='RandomStateHook'),
    dict(type='PrimapsInitHook', num_images=2975, kmeans_epochs=2),
    dict(type='PrimapsEMAHook', interval=10),
]
