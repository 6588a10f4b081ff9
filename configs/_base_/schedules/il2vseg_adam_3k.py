# IL2Vseg's optimisation ("Implementation Details"): Adam, lr 1e-4 for the
# projection and 5e-4 for the local clustering centres (the global ones are
# EMA buffers). Steps and batch are not given: SmooSeg's 3,000 steps (the
# dataset leaves set the batch); 10x the base rate for the linear probe
# (supervised upper bound, reported apart).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4),
    constructor='TrainableParamsOptimWrapperConstructor',
    paramwise_cfg=dict(
        custom_keys={
            'decode_head.prototypes': dict(lr_mult=5.0),
            'linear_probe': dict(lr_mult=10.0),
        }
    ),
)
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=3000, val_interval=500)
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
