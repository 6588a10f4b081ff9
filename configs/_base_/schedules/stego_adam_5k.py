# STEGO's optimisation: Adam, 5e-4 for the head and 5e-3 for the cluster and
# linear probes (upstream uses three Adam optimisers; per-parameter Adam
# with per-group learning rates is the same update), 5,000 steps.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4),
    constructor='TrainableParamsOptimWrapperConstructor',
    paramwise_cfg=dict(
        custom_keys={
            'cluster_probe': dict(lr_mult=10.0),
            'linear_probe': dict(lr_mult=10.0),
        }
    ),
)
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=5000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# No save_best: checkpoint selection never looks at ground truth by default.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
