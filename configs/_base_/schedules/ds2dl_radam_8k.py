# DS²DL's optimisation (Sec. 4.3): RAdam for COCO-Stuff and Cityscapes (Adam
# for Potsdam: leaf configs switch the type), batch 32 (the dataset leaves
# set it), 8,000 steps (Cityscapes; COCO-Stuff 15,000, Potsdam 4,000).
# Learning rates are not given in the paper; choice: SmooSeg's code base,
# which DS²DL builds on: 1e-4 for the projection and the pair bias b, 5e-4
# for the local prototypes (the global ones are EMA buffers), 10x the base
# rate for the linear probe (supervised upper bound, reported apart).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='RAdam', lr=1e-4),
    constructor='TrainableParamsOptimWrapperConstructor',
    paramwise_cfg=dict(
        custom_keys={
            'decode_head.prototypes': dict(lr_mult=5.0),
            'linear_probe': dict(lr_mult=10.0),
        }
    ),
)
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8000, val_interval=1000)
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
