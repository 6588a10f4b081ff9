# Iteration-based schedule for training the probes (and small heads) with
# Adam. Only trainable parameters reach the optimizer: the frozen backbone
# is left out by TrainableParamsOptimWrapperConstructor.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-3),
    constructor='TrainableParamsOptimWrapperConstructor',
)
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# No save_best: checkpoint selection never looks at ground truth by default.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
