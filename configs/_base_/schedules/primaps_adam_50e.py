# PriMaPs-EM's optimisation (Sec. 4.1): Adam, learning rate 5e-3 (also for
# the linear probe), batch size 32, 2 epochs of cosine k-means
# initialisation (PrimapsInitHook) followed by 50 EM epochs; the momentum
# prototypes follow by EMA every 10 steps with decay 0.98 (PrimapsEMAHook).
# The hooks and epoch logging are in ../primaps_runtime.py.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-3),
    constructor='TrainableParamsOptimWrapperConstructor',
)
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=52, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# No save_best: checkpoint selection never looks at ground truth by default
# (upstream selected on validation mIoU).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=2
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
